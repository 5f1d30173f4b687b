FROM python:3.11-slim
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends build-essential curl procps && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
ENV DATA_DIR=/data PYTHONUNBUFFERED=1
EXPOSE 8501
# the upload box follows MAX_UPLOAD_MB (the app refuses larger files with the same limit)
CMD ["sh", "-c", "exec streamlit run Home.py --server.port=8501 --server.address=0.0.0.0 --server.headless=true --server.maxUploadSize=${MAX_UPLOAD_MB:-200}"]
