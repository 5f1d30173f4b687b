"""The HOLD-OUT phrasings of the grounded planner benchmark (issue 20): written before any tuning, over two
datasets whose vocabulary the planner was not developed on (hospital admissions, company staff), and never
used to tune it. bench/bench_agents.py scores them; bench/agents_tuning.py holds the tuning set.

Each case: (message, current dataset, expected tool, expected arguments). Expected arguments are a subset
of the planned call's arguments, with three special keys:
  "sql~": substrings the SQL must contain (compared lower case, spaces squeezed);
  "xy":   the set {x, y} in any order (correlation and association tests);
  "levels": the set of group levels the comparison is restricted to.
Multi-step cases: (message, current dataset, [(tool, arguments), ...] in order).
"""

from __future__ import annotations

from typing import Any

ADMISSIONS: dict[str, Any] = {
    "kinds": {"patient_id": "numeric", "ward": "categorical", "admission_type": "categorical",
              "length_of_stay": "numeric", "patient_age": "numeric", "readmitted": "boolean",
              "insurance": "categorical", "bill_amount": "numeric", "satisfaction_score": "numeric",
              "smoker": "categorical", "admitted_on": "categorical"},
    "levels": {"ward": ["cardiology", "oncology", "pediatrics", "maternity"],
               "admission_type": ["emergency", "elective", "urgent"], "readmitted": [True, False],
               "insurance": ["private", "public", "uninsured"], "smoker": ["yes", "no"],
               "satisfaction_score": [1, 2, 3, 4, 5]},
}
STAFF: dict[str, Any] = {
    "kinds": {"employee_id": "numeric", "department": "categorical", "seniority": "categorical",
              "annual_salary": "numeric", "years_of_service": "numeric", "works_remotely": "numeric",
              "has_left": "boolean", "performance_score": "numeric", "office_city": "categorical",
              "bonus_pct": "numeric"},
    "levels": {"department": ["Sales", "Engineering", "Support", "Finance"],
               "seniority": ["junior", "mid", "senior", "lead"], "works_remotely": [0, 1],
               "has_left": [True, False], "office_city": ["Berlin", "Paris", "Madrid"],
               "performance_score": [1, 2, 3, 4, 5]},
}
DATASETS = {"admissions": ADMISSIONS, "staff": STAFF}
A, S = "admissions", "staff"
T = "hypothesis_test"
Q = "sql_query"
V = "create_visualization"
E = "eda_analysis"

HOLD_OUT: list[tuple[str, str, str, dict[str, Any]]] = [
    # a named test is honoured
    ("run a mann-whitney test of bill amount between private and public patients", A, T,
     {"test": "mannwhitney", "value": "bill_amount", "group": "insurance", "levels": {"private", "public"}}),
    ("mann whitney u on annual salary for juniors vs seniors", S, T,
     {"test": "mannwhitney", "value": "annual_salary", "group": "seniority", "levels": {"junior", "senior"}}),
    ("kruskal-wallis of length of stay across wards", A, T,
     {"test": "kruskal", "value": "length_of_stay", "group": "ward"}),
    ("kruskal wallis test: performance score by department", S, T,
     {"test": "kruskal", "value": "performance_score", "group": "department"}),
    ("fisher's exact test for readmitted vs smoker", A, T, {"test": "fisher_exact", "xy": {"readmitted", "smoker"}}),
    ("fisher exact test of has left against office city", S, T,
     {"test": "fisher_exact", "xy": {"has_left", "office_city"}}),
    ("levene test: equal variance of bill amount across admission types?", A, T,
     {"test": "levene", "value": "bill_amount", "group": "admission_type"}),
    ("is the variance of bonus pct the same in every office? use levene", S, T,
     {"test": "levene", "value": "bonus_pct", "group": "office_city"}),
    ("t-test of patient age between smokers and non-smokers", A, T,
     {"test": "ttest_ind", "value": "patient_age", "group": "smoker"}),
    ("welch t test on years of service by has left", S, T,
     {"test": "ttest_ind", "value": "years_of_service", "group": "has_left"}),
    ("chi-square test between insurance and admission type", A, T,
     {"test": "chi2_independence", "xy": {"insurance", "admission_type"}}),
    ("chi squared: is seniority independent of department?", S, T,
     {"test": "chi2_independence", "xy": {"seniority", "department"}}),
    ("spearman correlation test between patient age and length of stay", A, T,
     {"test": "spearman", "xy": {"patient_age", "length_of_stay"}}),
    ("pearson test for bonus pct and performance score", S, T,
     {"test": "pearson", "xy": {"bonus_pct", "performance_score"}}),
    ("shapiro-wilk on bill amount", A, T, {"test": "shapiro", "value": "bill_amount"}),
    ("kendall tau between years of service and annual salary", S, T,
     {"test": "kendall", "xy": {"years_of_service", "annual_salary"}}),
    # two groups named by their values
    ("do emergency admissions stay longer than elective ones?", A, T,
     {"test": "ttest_ind", "value": "length_of_stay", "group": "admission_type",
      "levels": {"emergency", "elective"}}),
    ("compare bills of oncology and cardiology patients", A, T,
     {"test": "ttest_ind", "value": "bill_amount", "group": "ward", "levels": {"oncology", "cardiology"}}),
    ("are salaries in Berlin higher than in Paris", S, T,
     {"test": "ttest_ind", "value": "annual_salary", "group": "office_city", "levels": {"Berlin", "Paris"}}),
    ("engineering vs sales: is there a difference in bonus pct?", S, T,
     {"test": "ttest_ind", "value": "bonus_pct", "group": "department", "levels": {"Engineering", "Sales"}}),
    ("do smokers have lower satisfaction scores than non-smokers", A, T,
     {"test": "ttest_ind", "value": "satisfaction_score", "group": "smoker"}),
    ("is performance different for remote workers and office workers", S, T,
     {"test": "ttest_ind", "value": "performance_score", "group": "works_remotely"}),
    ("readmitted patients versus the ones that were not: patient age", A, T,
     {"test": "ttest_ind", "value": "patient_age", "group": "readmitted"}),
    ("does years of service differ between employees who left and those who stayed", S, T,
     {"test": "ttest_ind", "value": "years_of_service", "group": "has_left"}),
    ("does length of stay differ between readmitted patients and the others", A, T,
     {"test": "ttest_ind", "value": "length_of_stay", "group": "readmitted"}),
    ("privately insured patients pay more than publicly insured ones?", A, T,
     {"test": "ttest_ind", "value": "bill_amount", "group": "insurance", "levels": {"private", "public"}}),
    ("juniors and leads: do their bonus pct differ?", S, T,
     {"test": "ttest_ind", "value": "bonus_pct", "group": "seniority", "levels": {"junior", "lead"}}),
    # more than two levels, or a whole grouping column
    ("does bill amount vary across wards", A, T, {"test": "anova_oneway", "value": "bill_amount", "group": "ward"}),
    ("is annual salary different between the departments", S, T,
     {"test": "anova_oneway", "value": "annual_salary", "group": "department"}),
    ("compare length of stay for emergency, elective and urgent admissions", A, T,
     {"test": "anova_oneway", "value": "length_of_stay", "group": "admission_type"}),
    ("do Berlin, Paris and Madrid offices differ in performance score", S, T,
     {"test": "anova_oneway", "value": "performance_score", "group": "office_city"}),
    ("does seniority affect bonus pct significantly", S, T,
     {"test": "anova_oneway", "value": "bonus_pct", "group": "seniority"}),
    # relationship between two numbers, tested
    ("is there a significant relationship between patient age and bill amount", A, T,
     {"test": "pearson", "xy": {"patient_age", "bill_amount"}}),
    ("test the correlation between years of service and annual salary", S, T,
     {"test": "pearson", "xy": {"years_of_service", "annual_salary"}}),
    ("is length of stay significantly correlated with bill amount?", A, T,
     {"test": "pearson", "xy": {"length_of_stay", "bill_amount"}}),
    ("does bonus pct go up with performance score? test it", S, T,
     {"test": "pearson", "xy": {"bonus_pct", "performance_score"}}),
    # association between two categories
    ("is smoking associated with readmission? test it", A, T, {"test": "chi2_independence",
                                                               "xy": {"smoker", "readmitted"}}),
    ("is there a significant association between office city and has left", S, T,
     {"test": "chi2_independence", "xy": {"office_city", "has_left"}}),
    # counts with a condition
    ("how many patients were readmitted?", A, Q, {"sql~": ["count(*)", "where \"readmitted\" = true"]}),
    ("how many employees have left", S, Q, {"sql~": ["count(*)", "where \"has_left\" = true"]}),
    ("number of admissions in the oncology ward", A, Q, {"sql~": ["count(*)", "where \"ward\" = 'oncology'"]}),
    ("how many staff work in Madrid", S, Q, {"sql~": ["count(*)", "where \"office_city\" = 'madrid'"]}),
    ("how many patients have a satisfaction score of 5", A, Q,
     {"sql~": ["count(*)", "where \"satisfaction_score\" = 5"]}),
    ("count the emergency admissions", A, Q, {"sql~": ["count(*)", "where \"admission_type\" = 'emergency'"]}),
    ("how many employees work remotely", S, Q, {"sql~": ["count(*)", "where \"works_remotely\" = 1"]}),
    ("how many uninsured patients are there", A, Q, {"sql~": ["count(*)", "where \"insurance\" = 'uninsured'"]}),
    ("number of senior employees in engineering", S, Q,
     {"sql~": ["count(*)", "\"seniority\" = 'senior'", "\"department\" = 'engineering'"]}),
    ("how many patients are smokers", A, Q, {"sql~": ["count(*)", "where \"smoker\" = 'yes'"]}),
    # counts by group, rows
    ("how many admissions per ward", A, Q, {"sql~": ["\"ward\"", "count(*)", "group by"]}),
    ("headcount by department", S, Q, {"sql~": ["\"department\"", "count(*)", "group by"]}),
    ("how many records are in admissions", S, Q, {"sql~": ["count(*)", "from \"admissions\""]}),
    # shape: rows and columns
    ("how many rows and columns does staff have", S, "get_dataset_info", {"dataset": "staff"}),
    ("what are the dimensions of the admissions data", S, "get_dataset_info", {"dataset": "admissions"}),
    ("number of rows and number of columns", A, "get_dataset_info", {"dataset": "admissions"}),
    # aggregates, with groups and conditions
    ("average bill amount by insurance", A, Q, {"sql~": ["avg(\"bill_amount\")", "group by", "\"insurance\""]}),
    ("mean annual salary per seniority level", S, Q, {"sql~": ["avg(\"annual_salary\")", "\"seniority\""]}),
    ("total bill amount for emergency admissions", A, Q,
     {"sql~": ["sum(\"bill_amount\")", "where \"admission_type\" = 'emergency'"]}),
    ("what is the average salary of people in finance", S, Q,
     {"sql~": ["avg(\"annual_salary\")", "where \"department\" = 'finance'"]}),
    ("highest bonus pct in each office", S, Q, {"sql~": ["max(\"bonus_pct\")", "\"office_city\"", "group by"]}),
    ("median length of stay of readmitted patients", A, Q,
     {"sql~": ["median(\"length_of_stay\")", "where \"readmitted\" = true"]}),
    ("longest stay in the pediatrics ward", A, Q, {"sql~": ["max(\"length_of_stay\")", "'pediatrics'"]}),
    # charts
    ("scatter plot of patient age against bill amount", A, V, {"kind": "scatter", "x": "patient_age",
                                                               "y": "bill_amount"}),
    ("histogram of annual salary", S, V, {"kind": "histogram", "x": "annual_salary"}),
    ("box plot of length of stay by ward", A, V, {"kind": "box", "y": "length_of_stay", "x": "ward"}),
    ("bar chart of average bonus pct per department", S, V, {"kind": "bar", "x": "department",
                                                             "y": "bonus_pct"}),
    ("pie chart of insurance", A, V, {"kind": "pie", "x": "insurance"}),
    ("violin plot of performance score by seniority", S, V, {"kind": "violin", "y": "performance_score",
                                                             "x": "seniority"}),
    ("plot the distribution of patient age", A, V, {"kind": "histogram", "x": "patient_age"}),
    ("visualise salary against years of service", S, V, {"kind": "scatter"}),
    # exploration
    ("which columns have missing values", A, E, {"analysis": "missing"}),
    ("are there duplicate rows in staff", A, E, {"analysis": "duplicates", "dataset": "staff"}),
    ("find outliers in bill amount", A, E, {"analysis": "outliers", "columns": ["bill_amount"]}),
    ("summary statistics for annual salary", S, E, {"analysis": "statistics", "columns": ["annual_salary"]}),
    ("what are the most common wards", A, E, {"analysis": "top_values", "columns": ["ward"]}),
    ("how is bonus pct distributed", S, E, {"analysis": "distribution", "columns": ["bonus_pct"]}),
    ("correlation matrix of the numeric columns", A, E, {"analysis": "correlation"}),
    ("give me an overview of staff", A, E, {"analysis": "overview", "dataset": "staff"}),
    ("what columns does admissions have", S, "get_dataset_info", {"dataset": "admissions"}),
    ("which datasets are available", A, "list_datasets", {}),
    # models, jobs, documents
    ("train a model to predict readmitted", A, "train_ml_model", {"target": "readmitted"}),
    ("build a classifier for has left", S, "train_ml_model", {"target": "has_left"}),
    ("what's the status of the training job", A, "get_job_status", {}),
    ("what do the documents say about discharge policy?", A, "query_documents", {}),
    # cleaning (makes a new version)
    ("fill missing bill amount with the median", A, "clean_dataset",
     {"op": "fill", "column": "bill_amount", "method": "median"}),
    ("replace empty bonus pct values with the mean", S, "clean_dataset",
     {"op": "fill", "column": "bonus_pct", "method": "mean"}),
    ("remove duplicates from staff", S, "clean_dataset", {"op": "dedupe", "dataset": "staff"}),
]

MULTI_HOLD_OUT: list[tuple[str, str, list[tuple[str, dict[str, Any]]]]] = [
    ("fill missing bill amount with the median, then plot bill amount by ward and test whether it differs", A,
     [("clean_dataset", {"op": "fill", "column": "bill_amount", "method": "median"}),
      (V, {"x": "ward", "y": "bill_amount"}),
      (T, {"test": "anova_oneway", "value": "bill_amount", "group": "ward"})]),
    ("remove duplicate records, then count employees per department", S,
     [("clean_dataset", {"op": "dedupe"}), (Q, {"sql~": ["\"department\"", "count(*)"]})]),
    ("show missing values and then fill missing bonus pct with the mean", S,
     [(E, {"analysis": "missing"}), ("clean_dataset", {"op": "fill", "column": "bonus_pct", "method": "mean"})]),
    ("histogram of patient age; then test if patient age is normal", A,
     [(V, {"kind": "histogram", "x": "patient_age"}), (T, {"test": "shapiro", "value": "patient_age"})]),
    ("first fill missing length of stay with the median, after that compare length of stay between "
     "emergency and elective admissions", A,
     [("clean_dataset", {"op": "fill", "column": "length_of_stay", "method": "median"}),
      (T, {"value": "length_of_stay", "group": "admission_type", "levels": {"emergency", "elective"}})]),
    ("average annual salary by office city, then draw a box plot of annual salary by office city", S,
     [(Q, {"sql~": ["avg(\"annual_salary\")"]}), (V, {"kind": "box", "y": "annual_salary", "x": "office_city"})]),
    ("how many patients were readmitted and then train a model to predict readmitted", A,
     [(Q, {"sql~": ["count(*)", "\"readmitted\" = true"]}), ("train_ml_model", {"target": "readmitted"})]),
    ("fill missing performance score with the median then show summary statistics of performance score", S,
     [("clean_dataset", {"op": "fill", "column": "performance_score", "method": "median"}),
      (E, {"analysis": "statistics", "columns": ["performance_score"]})]),
]
