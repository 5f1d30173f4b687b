FROM python:3.11-slim AS app
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends build-essential curl procps && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
ENV DATA_DIR=/data PYTHONUNBUFFERED=1
EXPOSE 8501
# the upload box follows MAX_UPLOAD_MB (the app refuses larger files with the same limit)
CMD ["sh", "-c", "exec streamlit run Home.py --server.port=8501 --server.address=0.0.0.0 --server.headless=true --server.maxUploadSize=${MAX_UPLOAD_MB:-200}"]

# The GPU worker (`docker build --target gpu`, used by compose's gpu-worker): the CUDA builds of both
# deep-learning frameworks replace the CPU ones; the NVIDIA driver comes from the host (container toolkit).
FROM app AS gpu
RUN pip uninstall -y tensorflow-cpu torch \
 && pip install --no-cache-dir torch==2.13.0 --index-url https://download.pytorch.org/whl/cu128 \
 && pip install --no-cache-dir "tensorflow[and-cuda]==2.21.0"
CMD ["dramatiq", "jobs.worker", "--processes", "1", "--threads", "1", "--queues", "gpu_tasks"]

# the default build is the CPU app image
FROM app
