"""Offline planner: a long list of analyst phrasings and the tool call each must become (the tuning set).

The held-out phrasings that measure accuracy live apart, in bench/bench_agents.py.
"""

from __future__ import annotations

import re

import pytest

from agents import planner
from agents.planner import Schema

HOUSES = Schema("11111111-1111-1111-1111-111111111111", "houses", {
    "city": "categorical", "district": "categorical", "area_sqm": "numeric", "price": "numeric",
    "bedrooms": "numeric", "garage": "categorical", "year_built": "numeric"})
CUSTOMERS = Schema("22222222-2222-2222-2222-222222222222", "customers", {
    "customer_id": "numeric", "age": "numeric", "income": "numeric", "gender": "categorical",
    "churn": "categorical", "plan": "categorical", "monthly_spend": "numeric"})
SCHEMAS = [HOUSES, CUSTOMERS]

H, C = "houses", "customers"

CASES = [
    # describe / info
    ("describe the dataset", "get_dataset_info", {"dataset": H}),
    ("what columns are in customers?", "get_dataset_info", {"dataset": C}),
    ("show me the schema", "get_dataset_info", {"dataset": H}),
    ("what data types does customers have", "get_dataset_info", {"dataset": C}),
    ("which datasets do I have?", "list_datasets", {}),
    # overview
    ("give me an overview", "eda_analysis", {"analysis": "overview", "dataset": H}),
    ("summarize the customers data", "eda_analysis", {"analysis": "overview", "dataset": C}),
    ("explore houses", "eda_analysis", {"analysis": "overview", "dataset": H}),
    ("what does the data look like", "eda_analysis", {"analysis": "overview"}),
    # missing
    ("show missing values", "eda_analysis", {"analysis": "missing"}),
    ("are there any nulls in customers", "eda_analysis", {"analysis": "missing", "dataset": C}),
    ("how many NaN values per column", "eda_analysis", {"analysis": "missing"}),
    ("which columns have empty cells", "eda_analysis", {"analysis": "missing"}),
    # statistics
    ("statistics of price", "eda_analysis", {"analysis": "statistics", "columns": ["price"]}),
    ("summary stats for income", "eda_analysis", {"analysis": "statistics", "columns": ["income"],
                                                 "dataset": C}),
    ("describe the price column", "eda_analysis", {"analysis": "statistics", "columns": ["price"]}),
    ("what is the standard deviation of area", "eda_analysis", {"analysis": "statistics",
                                                                "columns": ["area_sqm"]}),
    ("median and quartiles of bedrooms", "eda_analysis", {"analysis": "statistics", "columns": ["bedrooms"]}),
    # correlation
    ("correlation between price and area", "eda_analysis", {"analysis": "correlation",
                                                            "columns": ["price", "area_sqm"]}),
    ("how are income and monthly spend related", "eda_analysis", {"analysis": "correlation",
                                                                  "columns": ["income", "monthly_spend"]}),
    ("show the correlation matrix", "eda_analysis", {"analysis": "correlation"}),
    ("what is the relationship between age and income", "eda_analysis", {"analysis": "correlation",
                                                                         "columns": ["age", "income"]}),
    # distribution / outliers / duplicates / top values
    ("distribution of price", "eda_analysis", {"analysis": "distribution", "columns": ["price"]}),
    ("how is age distributed", "eda_analysis", {"analysis": "distribution", "columns": ["age"]}),
    ("is income skewed?", "eda_analysis", {"analysis": "distribution", "columns": ["income"]}),
    ("outliers in price", "eda_analysis", {"analysis": "outliers", "columns": ["price"]}),
    ("find anomalies in monthly_spend", "eda_analysis", {"analysis": "outliers", "columns": ["monthly_spend"]}),
    ("any extreme values?", "eda_analysis", {"analysis": "outliers"}),
    ("are there duplicate rows", "eda_analysis", {"analysis": "duplicates"}),
    ("check customers for duplicates", "eda_analysis", {"analysis": "duplicates", "dataset": C}),
    ("top values of city", "eda_analysis", {"analysis": "top_values", "columns": ["city"]}),
    ("most common plan", "eda_analysis", {"analysis": "top_values", "columns": ["plan"]}),
    ("value counts for district", "eda_analysis", {"analysis": "top_values", "columns": ["district"]}),
    ("what are the unique values of gender", "eda_analysis", {"analysis": "top_values", "columns": ["gender"]}),
    # aggregates as SQL
    ("average price by city", "sql_query", {"sql": 'SELECT "city", AVG("price") AS "mean_price" FROM "houses" '
                                                   'GROUP BY 1 ORDER BY 2 DESC'}),
    ("total income per plan", "sql_query", {"sql": 'SELECT "plan", SUM("income") AS "sum_income" FROM "customers" '
                                                   'GROUP BY 1 ORDER BY 2 DESC'}),
    ("count of customers by gender", "sql_query", {"sql": 'SELECT "gender", COUNT(*) AS count FROM "customers" '
                                                          'GROUP BY 1 ORDER BY count DESC'}),
    ("how many houses per district", "sql_query", {"sql": 'SELECT "district", COUNT(*) AS count FROM "houses" '
                                                          'GROUP BY 1 ORDER BY count DESC'}),
    ("max price for each city", "sql_query", {"sql": 'SELECT "city", MAX("price") AS "max_price" FROM "houses" '
                                                     'GROUP BY 1 ORDER BY 2 DESC'}),
    ("median income across plan", "sql_query", {"sql": 'SELECT "plan", MEDIAN("income") AS "median_income" '
                                                       'FROM "customers" GROUP BY 1 ORDER BY 2 DESC'}),
    ("how many rows are there", "sql_query", {"sql": 'SELECT COUNT(*) AS row_count FROM "houses"'}),
    ("what is the average age", "sql_query", {"sql": 'SELECT AVG("age") AS "mean_age" FROM "customers"'}),
    ("sum of monthly spend grouped by churn", "sql_query", {
        "sql": 'SELECT "churn", SUM("monthly_spend") AS "sum_monthly_spend" FROM "customers" GROUP BY 1 '
               'ORDER BY 2 DESC'}),
    ("number of customers in each plan", "sql_query", {
        "sql": 'SELECT "plan", COUNT(*) AS count FROM "customers" GROUP BY 1 ORDER BY count DESC'}),
    ("top 3 cities by average price", "sql_query", {
        "sql": 'SELECT "city", AVG("price") AS "mean_price" FROM "houses" GROUP BY 1 ORDER BY 2 DESC LIMIT 3'}),
    ("how many distinct cities", "sql_query", {"sql": 'SELECT COUNT(DISTINCT "city") AS "distinct_city" FROM "houses"'}),
    # pasted SQL
    ("SELECT city, avg(price) FROM houses GROUP BY 1", "sql_query", {
        "sql": "SELECT city, avg(price) FROM houses GROUP BY 1"}),
    ("run this sql: select * from customers where age > 30;", "sql_query", {
        "sql": "select * from customers where age > 30"}),
    ("```sql\nSELECT plan, count(*) FROM customers GROUP BY 1\n```", "sql_query", {
        "sql": "SELECT plan, count(*) FROM customers GROUP BY 1"}),
    ("with t as (select * from houses) select count(*) from t", "sql_query", {
        "sql": "with t as (select * from houses) select count(*) from t"}),
    # charts
    ("plot area vs price", "create_visualization", {"kind": "scatter", "x": "area_sqm", "y": "price"}),
    ("scatter plot of income and monthly_spend", "create_visualization", {"kind": "scatter", "x": "income",
                                                                          "y": "monthly_spend"}),
    ("plot price against year built", "create_visualization", {"kind": "scatter", "x": "price",
                                                               "y": "year_built"}),
    ("chart age versus income colored by gender", "create_visualization", {
        "kind": "scatter", "x": "age", "y": "income", "color": "gender"}),
    ("histogram of price", "create_visualization", {"kind": "histogram", "x": "price"}),
    ("draw a histogram for age in customers", "create_visualization", {"kind": "histogram", "x": "age",
                                                                       "dataset": C}),
    ("plot the distribution of income", "create_visualization", {"kind": "histogram", "x": "income"}),
    ("box plot of price", "create_visualization", {"kind": "box", "y": "price"}),
    ("boxplot of income by plan", "create_visualization", {"kind": "box", "y": "income", "x": "plan"}),
    ("violin plot of age by churn", "create_visualization", {"kind": "violin", "y": "age", "x": "churn"}),
    ("bar chart of price by city", "create_visualization", {"kind": "bar", "x": "city", "y": "price",
                                                            "agg": "mean"}),
    ("bar chart of total income by plan", "create_visualization", {"kind": "bar", "x": "plan", "y": "income",
                                                                   "agg": "sum"}),
    ("bar chart of district", "create_visualization", {"kind": "bar", "x": "district", "agg": "count"}),
    ("pie chart of plan", "create_visualization", {"kind": "pie", "x": "plan"}),
    ("line chart of price over year built", "create_visualization", {"kind": "line", "x": "year_built",
                                                                     "y": "price"}),
    ("visualize bedrooms", "create_visualization", {"kind": "histogram", "x": "bedrooms"}),
    ("pair plot of the houses", "create_visualization", {"kind": "pair", "dataset": H}),
    # hypothesis tests
    ("t-test of price by garage", "hypothesis_test", {"test": "ttest_ind", "value": "price", "group": "garage"}),
    ("run a t test comparing income between churn groups", "hypothesis_test", {
        "test": "ttest_ind", "value": "income", "group": "churn"}),
    ("ttest monthly spend by gender", "hypothesis_test", {"test": "ttest_ind", "value": "monthly_spend",
                                                          "group": "gender"}),
    ("mann-whitney test of age by churn", "hypothesis_test", {"test": "mannwhitney", "value": "age",
                                                              "group": "churn"}),
    ("Mann Whitney U on price between garage", "hypothesis_test", {"test": "mannwhitney", "value": "price",
                                                                   "group": "garage"}),
    ("anova of price across city", "hypothesis_test", {"test": "anova_oneway", "value": "price",
                                                       "group": "city"}),
    ("one-way ANOVA income by plan", "hypothesis_test", {"test": "anova_oneway", "value": "income",
                                                         "group": "plan"}),
    ("does price differ between districts?", "hypothesis_test", {"test": "anova_oneway", "value": "price",
                                                                 "group": "district"}),
    ("chi-square between gender and churn", "hypothesis_test", {"test": "chi2_independence", "x": "gender",
                                                                "y": "churn"}),
    ("is churn independent of plan?", "hypothesis_test", {"test": "chi2_independence", "x": "churn",
                                                          "y": "plan"}),
    ("chi2 test city vs garage", "hypothesis_test", {"test": "chi2_independence", "x": "city", "y": "garage"}),
    ("is price normal?", "hypothesis_test", {"test": "shapiro", "value": "price"}),
    ("is income normally distributed", "hypothesis_test", {"test": "shapiro", "value": "income"}),
    ("shapiro test on age", "hypothesis_test", {"test": "shapiro", "value": "age"}),
    ("spearman correlation of age and income", "hypothesis_test", {"test": "spearman", "x": "age", "y": "income"}),
    # training, jobs, documents
    ("train a model to predict churn", "train_ml_model", {"target": "churn", "dataset": C}),
    ("build a classifier for churn", "train_ml_model", {"target": "churn", "task": "classification"}),
    ("predict price from area and bedrooms", "train_ml_model", {"target": "price"}),
    ("fit a regression model for price", "train_ml_model", {"target": "price", "task": "regression"}),
    ("predict with model rf-price on houses", "predict", {"model": "rf-price", "dataset": H}),
    ("apply the model churn_v2 to customers", "predict", {"model": "churn_v2", "dataset": C}),
    ("train a random forest and xgboost on churn", "train_ml_model", {
        "target": "churn", "models": ["random_forest", "xgboost"]}),
    ("job status", "get_job_status", {}),
    ("how is my training job going?", "get_job_status", {}),
    ("is the model training done", "get_job_status", {}),
    ("ask the documents: what was Q3 revenue?", "query_documents", {"question": "what was Q3 revenue?"}),
    ("according to the report, who is the CEO?", "query_documents", {}),
    ("what do the documents say about churn policy", "query_documents", {}),
    ("search the documents for refund policy", "search_documents", {"query": "refund policy"}),
]


def _dataset_for(message: str) -> str:
    """The current dataset of the conversation: customers when the phrasing names its columns, else houses."""
    words = r"\b(customers?|income|age|churn|plan|gender|monthly|spend)\b"
    return CUSTOMERS.id if re.search(words, message.lower().replace("_", " ")) else HOUSES.id


def test_the_tuning_set_has_at_least_eighty_phrasings() -> None:
    assert len(CASES) >= 80


@pytest.mark.parametrize(("message", "tool", "expected"), CASES, ids=[c[0][:40] for c in CASES])
def test_phrasing_maps_to_the_expected_tool_call(message: str, tool: str, expected: dict) -> None:
    # Given two datasets and a current one; When the planner reads the message
    ctx = planner.context(message, dataset_id=_dataset_for(message), schemas=SCHEMAS)
    calls = planner.plan(ctx)
    # Then it plans exactly the expected tool with the expected arguments
    assert calls, f"nothing planned for {message!r}"
    assert calls[0].name == tool
    for key, value in expected.items():
        assert calls[0].arguments.get(key) == value, (key, calls[0].arguments)


@pytest.mark.parametrize("message", [
    "hello there", "what is the meaning of life", "tell me a joke", "make it better",
])
def test_unmappable_requests_plan_nothing_and_explain_with_examples(message: str) -> None:
    # Given the schemas; When a message no rule understands is planned
    ctx = planner.context(message, dataset_id=HOUSES.id, schemas=SCHEMAS)
    # Then nothing is planned and the explanation shows examples
    assert planner.plan(ctx) == []
    text = planner.explain_unmapped(ctx)
    assert "houses" in text and "plot area vs price" in text


@pytest.mark.parametrize("message", [
    "delete the houses dataset", "drop table customers", "remove all rows", "run this python code: import os",
    "execute a shell command", "please erase every file", "```python\nprint(1)\n```", "truncate the table",
])
def test_requests_to_delete_data_or_run_code_are_refused(message: str) -> None:
    # Given a destructive or code-running request; When checked; Then it is flagged and nothing is planned
    assert planner.forbidden(message)
    assert planner.plan_offline(message) == []


def test_a_misspelt_column_is_still_found() -> None:
    # Given a typo in a column name; When planned; Then the real column is used
    ctx = planner.context("histogram of pirce", dataset_id=HOUSES.id, schemas=SCHEMAS)
    assert planner.plan(ctx)[0].arguments["x"] == "price"


def test_without_datasets_the_explanation_points_to_the_datasets_page() -> None:
    ctx = planner.context("histogram of price", schemas=[])
    assert planner.plan(ctx) == []
    assert "Datasets page" in planner.explain_unmapped(ctx)


def test_examples_use_the_datasets_own_columns_and_each_one_plans(tmp_path) -> None:
    from agents.planner import EXAMPLES, examples_for, plan_offline
    from core import datasets

    # Given a dataset whose columns are not the generic ones
    csv = tmp_path / "flats.csv"
    csv.write_text("district,surface,rent\nA,30,700\nB,45,950\nA,60,1200\nC,52,1010\n")
    ds = datasets.ingest_file(csv, name="flats")
    # When examples are written for it
    examples = examples_for(ds)
    # Then they name its columns, and the planner maps every one of them to a tool
    assert "average surface by district" in examples and "plot rent vs surface" in examples
    for example in examples:
        assert plan_offline(example, dataset_id=str(ds.id)), example
    assert examples_for(None) == list(EXAMPLES)


# --- real datasets: the planner answers the question asked, or says what it understood and asks ---------


@pytest.fixture
def sklearn_sets(tmp_path):
    """breast_cancer and diabetes from scikit-learn, ingested as the analyst would (diabetes is current)."""
    from sklearn.datasets import load_breast_cancer, load_diabetes

    from core import datasets

    made = {}
    for name, loader in (("breast_cancer", load_breast_cancer), ("diabetes", load_diabetes)):
        path = tmp_path / f"{name}.csv"
        loader(as_frame=True).frame.to_csv(path, index=False)
        made[name] = datasets.ingest_file(path, name=name)
    return made


def test_a_correlation_of_two_columns_named_with_mean_runs_a_correlation(sklearn_sets) -> None:
    import agents

    # Given columns whose names start with the word "mean"; When their correlation is asked
    reply = agents.ask("what is the correlation between mean radius and mean area in breast_cancer?",
                       dataset_id=str(sklearn_sets["diabetes"].id))
    # Then a correlation of those two columns runs (not an AVG), and the answer gives r
    assert [(c.name, c.arguments) for c in reply.tool_calls] == [("eda_analysis", {
        "dataset": "breast_cancer", "analysis": "correlation", "columns": ["mean radius", "mean area"]})]
    assert "r = 0.987" in reply.text and all(r.result.sql is None for r in reply.tool_runs)


def test_a_column_of_another_dataset_is_used_and_the_answer_says_so(sklearn_sets) -> None:
    import agents

    # Given diabetes selected; When a histogram of a breast_cancer column is asked
    reply = agents.ask("histogram of mean radius", dataset_id=str(sklearn_sets["diabetes"].id))
    # Then the chart is drawn from breast_cancer and the reply says which dataset it used
    assert reply.tool_calls[0].arguments == {"dataset": "breast_cancer", "kind": "histogram", "x": "mean radius"}
    assert reply.figures and "not a column of diabetes" in reply.text and "breast_cancer" in reply.text


@pytest.mark.parametrize("message", ["histogram of petal width", "box plot of petal width",
                                     "average of petal width", "statistics of petal width",
                                     "distribution of petal width"])
def test_a_column_in_no_dataset_is_said_so_and_nothing_else_runs(sklearn_sets, message: str) -> None:
    import agents

    # When a column no dataset has is asked for
    reply = agents.ask(message, dataset_id=str(sklearn_sets["breast_cancer"].id))
    # Then nothing runs (no summary statistics of something else) and the reply names the missing column
    assert reply.tool_runs == []
    assert "I understood:" in reply.text and "no column 'petal width'" in reply.text
    assert "No dataset has a column by that name" in reply.text


def test_an_incomplete_request_says_what_was_understood_and_asks(sklearn_sets) -> None:
    import agents

    reply = agents.ask("t-test of mean radius", dataset_id=str(sklearn_sets["breast_cancer"].id))
    assert reply.tool_runs == []
    assert "I understood: a ttest_ind test of mean radius in **breast_cancer**" in reply.text
    assert "Which column do you mean?" in reply.text


@pytest.mark.parametrize("message", ["How many rows and columns does breast_cancer have?",
                                     "how many columns are in breast_cancer", "what is the shape of breast_cancer"])
def test_rows_and_columns_are_both_answered_in_the_sentence(sklearn_sets, message: str) -> None:
    import agents

    reply = agents.ask(message, dataset_id=str(sklearn_sets["diabetes"].id))
    assert reply.tool_calls[0].name == "get_dataset_info"
    assert "569 rows × 31 columns" in reply.text.split(".")[0]


@pytest.mark.parametrize(("message", "page"), [("What does PTRATIO mean?", "Documents"),
                                               ("What does PTRATIO mean?", None),
                                               ("what is PTRATIO", "Documents"),
                                               ("What does the document say about PTRATIO?", "Documents")])
def test_on_the_documents_page_a_question_goes_to_the_documents_first(sklearn_sets, tmp_path, message: str,
                                                                      page: str | None) -> None:
    import agents
    from core import rag

    # Given a codebook document and a dataset selected
    codebook = tmp_path / "codebook.txt"
    codebook.write_text("Boston housing codebook.\n\nCRIM - per capita crime rate by town.\n\n"
                        "PTRATIO - Pupil-teacher ratio by town.\n")
    rag.add_document(codebook)
    # When the question is asked from the sidebar of the Documents page (or as a definition anywhere)
    reply = agents.ask(message, dataset_id=str(sklearn_sets["diabetes"].id), page=page)
    # Then the documents answer it, not summary statistics of the dataset
    assert [c.name for c in reply.tool_calls] == ["query_documents"] and reply.agent == "rag_assistant"
    assert "Summary statistics" not in reply.text
    assert "Pupil-teacher ratio" in reply.text


@pytest.mark.parametrize(("message", "tool"), [("histogram of bmi", "create_visualization"),
                                               ("average bmi by sex", "sql_query")])
def test_on_the_documents_page_a_plain_data_request_still_goes_to_the_data(sklearn_sets, message: str,
                                                                           tool: str) -> None:
    calls = planner.plan_offline(message, dataset_id=str(sklearn_sets["diabetes"].id), page="Documents")
    assert calls and calls[0].name == tool


@pytest.mark.parametrize(("message", "options"), [
    ("what is the mean radius", ["statistics of mean radius", "histogram of mean radius"]),
    ("mean radius and mean area?", ["correlation between mean radius and mean area",
                                    "plot mean area vs mean radius"]),
])
def test_a_message_naming_only_columns_offers_the_two_likeliest_readings(sklearn_sets, message: str,
                                                                         options: list[str]) -> None:
    import agents

    reply = agents.ask(message, dataset_id=str(sklearn_sets["breast_cancer"].id))
    assert reply.tool_runs == [] and "I understood that you mean" in reply.text
    assert all(f"- {o}" in reply.text for o in options)
    for option in options:  # and each offered reading is one the planner maps
        assert planner.plan_offline(option, dataset_id=str(sklearn_sets["breast_cancer"].id)), option


HOSTILE_COLUMNS = [
    "z FROM t, read_text('/etc/passwd') --",
    'price") FROM read_csv(\'/etc/passwd\') --',
    "x; DROP TABLE t",
    "k, (SELECT content FROM read_text('/etc/hostname')) AS leak FROM t --",
    "w FROM t UNION SELECT 31337 --",
    "q",
]
HOSTILE = Schema("33333333-3333-3333-3333-333333333333", "t", {c: "categorical" for c in HOSTILE_COLUMNS})


@pytest.mark.parametrize("template", ["how many distinct {c}", "count by {c}", "top 2 {c}"])
@pytest.mark.parametrize("column", HOSTILE_COLUMNS)
def test_column_names_never_leave_their_quotes_in_planned_sql(column: str, template: str) -> None:
    import duckdb

    # Given a dataset whose column names are written as SQL (the attacker's; the planner matches them loosely)
    calls = planner.plan(planner.context(template.format(c=column), dataset_id=HOSTILE.id, schemas=[HOSTILE]))
    queries = [c.arguments["sql"] for c in calls if c.name == "sql_query"]
    # When each planned query runs on a real table of that shape
    con = duckdb.connect()
    con.execute("CREATE TABLE t (" + ", ".join(f"{duckdb_quote(c)} VARCHAR" for c in HOSTILE_COLUMNS) + ")")
    row = "(" + ", ".join(["'a'"] * len(HOSTILE_COLUMNS)) + ")"
    con.execute(f"INSERT INTO t VALUES {row}, {row}")
    for sql in queries:
        rows = con.execute(sql).fetchall()
        # Then it is one query over that table: every name stays an identifier (no UNION row, no file read)
        assert len(rows) == 1, (sql, rows)
        assert all("31337" not in str(row) and "root" not in str(row) for row in rows), (sql, rows)
        assert len(con.description) <= 2 and "leak" not in [d[0] for d in con.description], sql
    assert con.execute("SELECT count(*) FROM t").fetchone() == (2,)


def test_the_attackers_union_column_is_planned_and_stays_quoted() -> None:
    # Given the message that ran a UNION before the alias was quoted
    message = "how many distinct " + HOSTILE_COLUMNS[3]
    calls = planner.plan(planner.context(message, dataset_id=HOSTILE.id, schemas=[HOSTILE]))
    # Then the planned alias is a quoted identifier
    assert calls and calls[0].name == "sql_query"
    assert 'AS "distinct_' in calls[0].arguments["sql"]


def duckdb_quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
