"""Document answers do not depend on how the question is worded (issue 19 item 4).

Two codebooks built like the real ones: the Boston housing description as a PDF (variables
listed as `PTRATIO - pupil-teacher ratio by town`) and the ANES 1996 codebook as a Word file
(`PID - Party identification` followed by its coded values `0 - Strong Democrat` ...). Questions
are asked through `core.rag.ask` offline (no LLM) with the bundled embedding model.

TUNING holds the phrasings the framing-word list and the value-line rule were tuned on;
HELD_OUT was written before tuning and never tuned on. Both are measured (hit@5: a top-5
passage holds the expected line; answered: the answer quotes it).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import rag
from core.rag import keyword, store
from core.rag.embeddings import _local_model
from core.rag.query import focus

log = logging.getLogger(__name__)

BOSTON = [
    "Boston house prices dataset",
    "Number of Instances: 506. Number of Attributes: 13 numeric/categorical predictive.",
    "Median Value (attribute 14) is usually the target.",
    "Attribute Information (in order):",
    "CRIM - per capita crime rate by town",
    "ZN - proportion of residential land zoned for lots over 25,000 sq.ft.",
    "INDUS - proportion of non-retail business acres per town",
    "CHAS - Charles River dummy variable (= 1 if tract bounds river; 0 otherwise)",
    "NOX - nitric oxides concentration (parts per 10 million)",
    "RM - average number of rooms per dwelling",
    "AGE - proportion of owner-occupied units built prior to 1940",
    "DIS - weighted distances to five Boston employment centres",
    "RAD - index of accessibility to radial highways",
    "TAX - full-value property-tax rate per $10,000",
    "PTRATIO - Pupil-teacher ratio by town.",
    "B - 1000(Bk - 0.63)^2 where Bk is the proportion of blacks by town",
    "LSTAT - % lower status of the population",
    "MEDV - Median value of owner-occupied homes in $1000's",
    "Missing Attribute Values: None",
    "Creator: Harrison, D. and Rubinfeld, D.L.",
]

ANES = [
    "American National Election Survey 1996",
    "Number of observations: 944. Number of variables: 10",
    "Variable name definitions:",
    "popul - Census place population in 1000s",
    "TVnews - Number of times per week that respondent watches TV news.",
    "PID - Party identification of respondent.",
    "0 - Strong Democrat", "1 - Weak Democrat", "2 - Independent-Democrat", "3 - Independent-Independent",
    "4 - Independent-Republican", "5 - Weak Republican", "6 - Strong Republican",
    "age : Age of respondent.",
    "educ - Education level of respondent",
    "1 - 1-8 grades", "2 - Some high school", "3 - High school graduate", "4 - Some college",
    "5 - College degree", "6 - Master's degree", "7 - PhD",
    "income - Income of household",
    "1 - None or less than $2,999", "2 - $3,000-$4,999", "3 - $5,000-$6,999", "4 - $7,000-$8,999",
    "5 - $9,000-$9,999", "6 - $10,000-$10,999", "7 - $11,000-$11,999",
    "vote - Expected vote",
    "0 - Clinton", "1 - Dole",
    "The following 3 variables all take the values:",
    "1 - Extremely liberal", "2 - Liberal", "3 - Slightly liberal", "4 - Moderate", "5 - Slightly conservative",
    "6 - Conservative", "7 - Extremely Conservative",
    "selfLR - Respondent's self-reported political leanings from Left to Right.",
    "ClinLR - Respondents impression of Bill Clinton's political leanings from Left to Right.",
    "DoleLR - Respondents impression of Bob Dole's political leanings from Left to Right.",
    "logpopul - log(popul + .1)",
]

# (question, a line the answer must quote; alternatives separated by '|')
TUNING = [
    ("What does PTRATIO mean?", "PTRATIO - Pupil-teacher ratio by town."),
    ("what does the document say about PTRATIO?", "PTRATIO - Pupil-teacher ratio by town."),
    ("What does a PID value of 6 mean?", "6 - Strong Republican"),
    ("tell me about CRIM", "CRIM - per capita crime rate by town"),
    ("According to the file, what is NOX?", "NOX - nitric oxides concentration"),
    ("What is the meaning of LSTAT?", "LSTAT - % lower status of the population"),
    ("what does vote = 1 mean?", "1 - Dole"),
    ("What does the codebook say about TVnews?", "TVnews - Number of times per week"),
    ("Explain TAX", "TAX - full-value property-tax rate"),
    ("What does PID 2 stand for?", "2 - Independent-Democrat"),
]

HELD_OUT = [
    ("Can you tell me what RM means in the documents?", "RM - average number of rooms per dwelling"),
    ("In the codebook, what is the definition of DIS?", "DIS - weighted distances to five Boston"),
    ("what's ZN", "ZN - proportion of residential land zoned"),
    ("Please explain what the variable INDUS refers to.", "INDUS - proportion of non-retail business acres"),
    ("What is meant by PID 0?", "0 - Strong Democrat"),
    ("What does a value of 5 for PID mean?", "5 - Weak Republican"),
    ("I'd like to know what the documents say regarding MEDV", "MEDV - Median value of owner-occupied homes"),
    ("what do the docs say about CHAS?", "CHAS - Charles River dummy variable"),
    ("Which party identification is coded as 3 in PID?", "3 - Independent-Independent"),
    ("What does vote equal to 0 indicate?", "0 - Clinton"),
    ("Look up AGE in the file", "AGE - proportion of owner-occupied units|age : Age of respondent."),
    ("Could you find what selfLR describes?", "selfLR - Respondent's self-reported political leanings"),
]


def make_codebook_pdf(path: Path, lines: list[str]) -> Path:
    """A one-page PDF with one variable per line, as a codebook prints it."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    y = 800
    for line in lines:
        pdf.drawString(50, y, line)
        y -= 16
    pdf.save()
    return path


def make_codebook_docx(path: Path, lines: list[str]) -> Path:
    """A Word codebook: a title heading, then one paragraph per line."""
    import docx

    document = docx.Document()
    document.add_heading(lines[0], level=1)
    for line in lines[1:]:
        document.add_paragraph(line)
    document.save(str(path))
    return path


@pytest.fixture(scope="module")
def embedding_model() -> object:
    return _local_model()


@pytest.fixture
def codebooks(tmp_path: Path, embedding_model: object) -> Iterator[None]:
    rag.add_document(make_codebook_pdf(tmp_path / "boston.pdf", BOSTON))
    rag.add_document(make_codebook_docx(tmp_path / "anes96.docx", ANES))
    yield
    keyword.clear()
    store.reset()


def _holds(text: str, expected: str) -> bool:
    return any(option.lower() in text.lower() for option in expected.split("|"))


def _measure(cases: list[tuple[str, str]]) -> tuple[float, float, float, list[str]]:
    """hit@5, hit@1 (the first passage holds the line) and answered (the answer quotes it)."""
    top5 = top1 = answered = 0
    misses = []
    for question, expected in cases:
        answer = rag.ask(question)
        top5 += any(_holds(h.text, expected) for h in answer.hits[:5])
        top1 += bool(answer.hits) and _holds(answer.hits[0].text, expected)
        quoted = answer.found and _holds(answer.text, expected)
        answered += quoted
        if not quoted:
            misses.append(f"{question!r} -> {answer.text[:120]!r}")
    return top5 / len(cases), top1 / len(cases), answered / len(cases), misses


@pytest.mark.parametrize(("question", "expected"), [
    ("What does PTRATIO mean?", "PTRATIO - Pupil-teacher ratio by town."),
    ("what does the document say about PTRATIO?", "PTRATIO - Pupil-teacher ratio by town."),
    ("What does a PID value of 6 mean?", "6 - Strong Republican"),
    ("What do the documents say about the PID value 6?", "6 - Strong Republican"),
])
def test_both_phrasings_quote_the_line_that_holds_the_term(codebooks: None, question: str, expected: str) -> None:
    # Given the Boston and ANES codebooks / When asked offline in either wording
    answer = rag.ask(question)
    # Then the answer quotes the line with the asked term (and value), cited
    assert answer.found and answer.mode == "extractive", answer.text
    assert expected.lower() in answer.text.lower(), answer.text
    assert answer.citations


def test_a_value_question_quotes_the_value_of_that_variable_only(codebooks: None) -> None:
    # Given codebooks where 6 is also an education level, an income band and a scale point
    answer = rag.ask("What does a PID value of 6 mean?")
    # Then only PID's line 6 is quoted, not the other variables' sixth values
    assert "Strong Republican" in answer.text
    for other in ("Master's degree", "$10,000", "Conservative", "Median value"):
        assert other not in answer.text, answer.text


def test_framing_words_are_dropped_before_retrieval() -> None:
    assert focus("what does the document say about PTRATIO?") == "PTRATIO"
    assert focus("What does PTRATIO mean?") == "PTRATIO"
    assert focus("According to the file, what is NOX?") == "NOX"
    assert focus("tell me about mean radius") == "mean radius"
    assert focus("What was Q3 revenue?") == "What was Q3 revenue"
    assert focus("what does the document say about").strip()  # never empty


def test_wording_figures_on_tuning_and_held_out_phrasings(codebooks: None) -> None:
    # Given both phrasing sets / When each is asked / Then the figures are logged and the tuning set is met
    tune_hit, tune_first, tune_answer, tune_miss = _measure(TUNING)
    held_hit, held_first, held_answer, held_miss = _measure(HELD_OUT)
    log.warning("tuning: hit@5 %.2f hit@1 %.2f answered %.2f %s", tune_hit, tune_first, tune_answer, tune_miss)
    log.warning("held-out: hit@5 %.2f hit@1 %.2f answered %.2f %s", held_hit, held_first, held_answer, held_miss)
    assert tune_hit == 1.0 and tune_answer == 1.0, tune_miss
    assert held_hit >= 0.9 and held_answer >= 0.75, held_miss
