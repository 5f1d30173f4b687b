"""core.stats against R: every number below is what R prints, asserted to the digits R prints.

R is not installed here; the references are the outputs documented in R's help pages
(Examples sections of ?t.test, ?wilcox.test, ?cor.test, ?chisq.test, ?fisher.test,
?binom.test, ?prop.test, ?kruskal.test, ?TukeyHSD, ?power.t.test, ?power.prop.test,
?oneway.test) or published R sessions, named beside each dataset or assertion.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from core import stats


def r_digits(printed: str) -> int:
    """Significant digits in a number as R prints it ('0.07939' -> 4, '2.954e-07' -> 4, '17.776' -> 5)."""
    mantissa = printed.lower().split("e")[0].lstrip("-").replace(".", "").lstrip("0")
    return max(1, len(mantissa))


def assert_r(value: float | None, printed: str) -> None:
    """value, rounded to the significant digits R printed, equals R's printout."""
    assert value is not None
    if printed in ("Inf", "-Inf"):
        assert math.isinf(value) and (value > 0) == (printed == "Inf")
        return
    expected = float(printed)
    if expected == 0:
        assert abs(value) < 10 ** -r_digits(printed)
        return
    assert float(f"{value:.{r_digits(printed) - 1}e}") == pytest.approx(expected, rel=1e-12), (value, printed)


def two_groups(a: list[float], b: list[float], la: str = "x", lb: str = "y") -> pd.DataFrame:
    return pd.DataFrame({"v": a + b, "g": [la] * len(a) + [lb] * len(b)})


# --- datasets -------------------------------------------------------------------------------------------
# R's `sleep` (Cushny & Peebles): extra hours of sleep, group 1 and group 2, ten patients each.
SLEEP_1 = [0.7, -1.6, -0.2, -1.2, -0.1, 3.4, 3.7, 0.8, 0.0, 2.0]
SLEEP_2 = [1.9, 0.8, 1.1, 0.1, -0.1, 4.4, 5.5, 1.6, 4.6, 3.4]
SLEEP = two_groups(SLEEP_1, SLEEP_2, "1", "2").rename(columns={"v": "extra", "g": "group"})
SLEEP_WIDE = pd.DataFrame({"g1": SLEEP_1, "g2": SLEEP_2})

# ?wilcox.test: Hollander & Wolfe (1973) p. 29 (depression scale) and p. 69 (permeability).
HW_X = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
HW_Y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]
PERM_X = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
PERM_Y = [1.15, 0.88, 0.90, 0.74, 1.21]

# endmemo.com/r/wilcoxon.php, an R session with ties (normal approximation with continuity correction).
TIE_X = [1, 5, 9, 24, 56, 21, 3, 7, 21, 4]
TIE_Y = [12, 15, 5, 9, 9, 14, 56, 22, 3, 7, 32, 5]
TIE_Y2 = [1233, 4356, 987, 39999, 1111, 200000]

# ?cor.test: Hollander & Wolfe (1973) p. 187f, aptitude and proficiency.
COR = pd.DataFrame({"x": [44.4, 45.9, 41.9, 53.3, 44.7, 44.1, 50.7, 45.2, 60.1],
                    "y": [2.6, 3.1, 2.5, 5.0, 3.6, 4.0, 5.2, 2.8, 3.8]})
# sullystats.com 15.6 (R session, ties): mpg and distance.
MPG = pd.DataFrame({"x": [100, 102, 103, 101, 105, 100, 99, 105], "y": [257, 264, 274, 266, 277, 263, 258, 275]})
# r-help 2006-09 "S in cor.test(..., method='spearman')" (R session, ties): ice data, n = 30.
ICE = pd.DataFrame({
    "x": [0.386, 0.374, 0.393, 0.425, 0.406, 0.344, 0.327, 0.288, 0.269, 0.256, 0.286, 0.298, 0.329, 0.318, 0.381,
          0.381, 0.47, 0.443, 0.386, 0.342, 0.319, 0.307, 0.284, 0.326, 0.309, 0.359, 0.376, 0.416, 0.437, 0.548],
    "y": [41, 56, 63, 68, 69, 65, 61, 47, 32, 24, 28, 26, 32, 40, 55, 63, 72, 72, 67, 60, 44, 40, 32, 27, 28, 33, 41,
          52, 64, 71]})

# R's `ToothGrowth`: tooth length by supplement (VC, OJ) at doses 0.5, 1, 2.
TOOTH = two_groups(
    [4.2, 11.5, 7.3, 5.8, 6.4, 10, 11.2, 11.2, 5.2, 7, 16.5, 16.5, 15.2, 17.3, 22.5, 17.3, 13.6, 14.5, 18.8, 15.5,
     23.6, 18.5, 33.9, 25.5, 26.4, 32.5, 26.7, 21.5, 23.3, 29.5],
    [15.2, 21.5, 17.6, 9.7, 14.5, 10, 8.2, 9.4, 16.5, 9.7, 19.7, 23.3, 23.6, 26.4, 20, 25.2, 25.8, 21.2, 14.5, 27.3,
     25.5, 26.4, 22.4, 24.5, 24.8, 30.9, 26.4, 27.3, 29.4, 23], "VC", "OJ").rename(columns={"v": "len", "g": "supp"})

# R's `InsectSprays`: insect counts for six sprays, 12 plots each.
INSECT = pd.DataFrame([(spray, count) for spray, counts in {
    "A": [10, 7, 20, 14, 14, 12, 10, 23, 17, 20, 14, 13], "B": [11, 17, 21, 11, 16, 14, 17, 17, 19, 21, 7, 13],
    "C": [0, 1, 7, 2, 3, 1, 2, 1, 3, 0, 1, 4], "D": [3, 5, 12, 6, 4, 3, 5, 5, 5, 5, 2, 4],
    "E": [3, 5, 3, 5, 3, 6, 1, 1, 3, 2, 6, 4], "F": [11, 9, 15, 22, 15, 16, 13, 10, 26, 26, 24, 13],
}.items() for count in counts], columns=["spray", "count"])

# R's `warpbreaks`: breaks per loom by wool (A, B) and tension (L, M, H), nine looms per cell.
WARP = pd.DataFrame([(b, wool, tension) for (wool, tension), breaks in {
    ("A", "L"): [26, 30, 54, 25, 70, 52, 51, 26, 67], ("A", "M"): [18, 21, 29, 17, 12, 18, 35, 30, 36],
    ("A", "H"): [36, 21, 24, 18, 10, 43, 28, 15, 26], ("B", "L"): [27, 14, 29, 19, 29, 31, 41, 20, 44],
    ("B", "M"): [42, 26, 19, 16, 39, 28, 21, 39, 29], ("B", "H"): [20, 21, 24, 17, 13, 15, 15, 16, 28],
}.items() for b in breaks], columns=["breaks", "wool", "tension"])

# ?kruskal.test: Hollander & Wolfe (1973) p. 116, mucociliary efficiency.
AIRWAY = pd.DataFrame({"v": [2.9, 3.0, 2.5, 2.6, 3.2, 3.8, 2.7, 4.0, 2.4, 2.8, 3.4, 3.7, 2.2, 2.0],
                       "g": ["normal"] * 5 + ["obstructive"] * 4 + ["asbestosis"] * 5})


# --- t-tests and ANOVA ----------------------------------------------------------------------------------

def test_welch_t_test_on_sleep_matches_r() -> None:
    # Given R's sleep data; When the default two-sample t-test runs
    res = stats.run_test("ttest_ind", SLEEP, value="extra", group="group")
    # Then: ?t.test, t.test(extra ~ group, data = sleep)
    assert res.method == "Welch Two Sample t-test"
    assert_r(res.statistic, "-1.8608")
    assert_r(res.df, "17.776")
    assert_r(res.p_value, "0.07939")
    assert_r(res.ci_low, "-3.3654832")
    assert_r(res.ci_high, "0.2054832")
    assert_r(res.estimate, "-1.58")


def test_student_t_test_with_equal_var_matches_r() -> None:
    res = stats.run_test("ttest_ind", SLEEP, value="extra", group="group", equal_var=True)
    # t.test(extra ~ group, data = sleep, var.equal = TRUE)
    assert_r(res.statistic, "-1.8608")
    assert_r(res.df, "18")
    assert_r(res.p_value, "0.07919")
    assert_r(res.ci_low, "-3.363874")
    assert_r(res.ci_high, "0.203874")


def test_paired_t_test_matches_r() -> None:
    res = stats.run_test("ttest_rel", SLEEP_WIDE, x="g1", y="g2")
    # ?t.test: t.test(Pair(extra.1, extra.2) ~ 1, data = sleep2)
    assert_r(res.statistic, "-4.0621")
    assert_r(res.df, "9")
    assert_r(res.p_value, "0.002833")
    assert_r(res.ci_low, "-2.4598858")
    assert_r(res.ci_high, "-0.7001142")
    assert_r(res.estimate, "-1.58")


def test_one_sample_t_test_equals_paired_on_differences() -> None:
    diffs = pd.DataFrame({"d": [a - b for a, b in zip(SLEEP_1, SLEEP_2, strict=True)]})
    res = stats.run_test("ttest_1samp", diffs, value="d", mu=0)
    assert_r(res.statistic, "-4.0621")
    assert_r(res.p_value, "0.002833")


def test_welch_t_test_on_toothgrowth_matches_r() -> None:
    # t.test(len ~ supp, data = ToothGrowth) (R session reproduced in STHDA and many courses); OJ is R's first level
    res = stats.run_test("ttest_ind", TOOTH, value="len", group="supp")
    assert_r(res.statistic, "1.9153")
    assert_r(res.df, "55.309")
    assert_r(res.p_value, "0.06063")
    assert_r(res.ci_low, "-0.1710156")
    assert_r(res.ci_high, "7.5710156")


@pytest.mark.parametrize(("equal_var", "f", "df2", "p"), [(True, "3.4626", "18", "0.07919"),
                                                          (False, "3.4626", "17.776", "0.07939")])
def test_oneway_anova_matches_oneway_test(equal_var: bool, f: str, df2: str, p: str) -> None:
    # ?oneway.test: oneway.test(extra ~ group, data = sleep[, var.equal = TRUE])
    res = stats.run_test("anova_oneway", SLEEP, value="extra", group="group", equal_var=equal_var)
    assert_r(res.statistic, f)
    assert_r(res.df, "1")
    assert_r(res.df2, df2)
    assert_r(res.p_value, p)


def test_factorial_anova_and_tukey_on_warpbreaks_match_r() -> None:
    # ?TukeyHSD: summary(fm1 <- aov(breaks ~ wool + tension, data = warpbreaks))
    res = stats.run_test("anova", WARP, formula="breaks ~ wool + tension")
    table = {row["term"]: row for row in res.tables["anova"]}
    assert_r(table["wool"]["sum_sq"], "450.7")
    assert_r(table["wool"]["F"], "3.339")
    assert_r(table["wool"]["p_value"], "0.07361")
    assert_r(table["tension"]["sum_sq"], "2034.3")
    assert_r(table["tension"]["F"], "7.537")
    assert_r(table["tension"]["p_value"], "0.00138")
    assert table["Residuals"]["df"] == 50
    assert_r(table["Residuals"]["mean_sq"], "135.0")
    # TukeyHSD(fm1, "tension", ordered = TRUE): M-H, L-H, L-M
    tukey = {row["comparison"]: row for row in res.tables["posthoc"] if row["term"] == "tension"}
    for name, diff, lwr, upr, p in [("M-H", "4.722222", "-4.6311985", "14.07564", "0.4474210"),
                                    ("L-H", "14.722222", "5.3688015", "24.07564", "0.0011218")]:
        assert_r(tukey[name]["diff"], diff)
        assert_r(tukey[name]["lwr"], lwr)
        assert_r(tukey[name]["upr"], upr)
        assert_r(tukey[name]["p_adj"], p)
    ml = tukey["M-L"]  # R's ordered L-M is its mirror image
    assert_r(-ml["diff"], "10.000000")
    assert_r(-ml["upr"], "0.6465793")
    assert_r(-ml["lwr"], "19.35342")
    assert_r(ml["p_adj"], "0.0336262")


def test_factorial_anova_with_interaction_has_r_terms() -> None:
    res = stats.run_test("anova", WARP, value="breaks", group=["wool", "tension"])
    assert [r["term"] for r in res.tables["anova"]] == ["wool", "tension", "wool:tension", "Residuals"]
    assert res.tables["anova"][-1]["df"] == 48


# --- rank tests ------------------------------------------------------------------------------------------

def test_wilcoxon_signed_rank_exact_matches_r() -> None:
    # ?wilcox.test: wilcox.test(x, y, paired = TRUE, alternative = "greater")
    res = stats.run_test("wilcoxon", pd.DataFrame({"x": HW_X, "y": HW_Y}), x="x", y="y", alternative="greater")
    assert res.method == "Wilcoxon signed rank exact test"
    assert_r(res.statistic, "40")
    assert_r(res.p_value, "0.01953")


def test_wilcoxon_one_sample_on_differences_matches_r() -> None:
    # ?wilcox.test: wilcox.test(y - x, alternative = "less") -- same p-value
    diffs = pd.DataFrame({"d": [b - a for a, b in zip(HW_X, HW_Y, strict=True)]})
    res = stats.run_test("wilcoxon", diffs, value="d", alternative="less")
    assert_r(res.statistic, "5")
    assert_r(res.p_value, "0.01953")


def test_mann_whitney_exact_matches_r() -> None:
    # ?wilcox.test: wilcox.test(x, y, alternative = "g")
    res = stats.run_test("mannwhitney", two_groups(PERM_X, PERM_Y), value="v", group="g", alternative="greater")
    assert res.method == "Wilcoxon rank sum exact test"
    assert_r(res.statistic, "35")
    assert_r(res.p_value, "0.1272")


@pytest.mark.parametrize(("y", "w", "p"), [(TIE_Y, "51.5", "0.5966"), (TIE_Y2, "0", "0.001364")])
def test_mann_whitney_with_ties_uses_corrected_normal_approximation(y: list[float], w: str, p: str) -> None:
    res = stats.run_test("mannwhitney", two_groups(TIE_X, y), value="v", group="g")
    assert res.method == "Wilcoxon rank sum test with continuity correction"
    assert_r(res.statistic, w)
    assert_r(res.p_value, p)


def test_kruskal_wallis_matches_r() -> None:
    # ?kruskal.test: kruskal.test(list(x, y, z))
    res = stats.run_test("kruskal", AIRWAY, value="v", group="g")
    assert_r(res.statistic, "0.77143")
    assert_r(res.df, "2")
    assert_r(res.p_value, "0.68")


def test_kruskal_wallis_on_insectsprays_matches_r() -> None:
    # kruskal.test(count ~ spray, data = InsectSprays)
    res = stats.run_test("kruskal", INSECT, value="count", group="spray")
    assert_r(res.statistic, "54.691")
    assert_r(res.p_value, "1.511e-10")


# --- correlations ----------------------------------------------------------------------------------------

def test_pearson_matches_r() -> None:
    # ?cor.test: cor.test(x, y) (Pearson, the default)
    res = stats.run_test("pearson", COR, x="x", y="y")
    assert_r(res.statistic, "1.8411")
    assert_r(res.df, "7")
    assert_r(res.p_value, "0.1082")
    assert_r(res.ci_low, "-0.1497426")
    assert_r(res.ci_high, "0.8955795")
    assert_r(res.estimate, "0.5711816")


def test_kendall_exact_matches_r() -> None:
    # ?cor.test: cor.test(x, y, method = "kendall", alternative = "greater")
    res = stats.run_test("kendall", COR, x="x", y="y", alternative="greater")
    assert_r(res.statistic, "26")
    assert_r(res.p_value, "0.05972")
    assert_r(res.estimate, "0.4444444")


def test_spearman_exact_matches_r() -> None:
    # ?cor.test: cor.test(x, y, method = "spearm", alternative = "g")
    res = stats.run_test("spearman", COR, x="x", y="y", alternative="greater")
    assert_r(res.statistic, "48")
    assert_r(res.p_value, "0.0484")
    assert_r(res.estimate, "0.6")


def test_spearman_edgeworth_series_for_n_above_nine_matches_r() -> None:
    # AS 89's Edgeworth branch (n > 9), called with S + 2 on the lower tail as R has done since the 2009 fix.
    # pspearman's ?spearman.test: x <- 1:10; y <- c(5:1, 6, 10:7): p-value 0.05444507 (S = 60)
    ten = pd.DataFrame({"x": range(1, 11), "y": [5, 4, 3, 2, 1, 6, 10, 9, 8, 7]})
    res = stats.run_test("spearman", ten, x="x", y="y")
    assert_r(res.statistic, "60")
    assert_r(res.p_value, "0.05444507")
    # r-devel, P. Savicky 2009-02-12: x <- 1:11; y <- c(6:1, 7, 11:8); AS 89 on the correct side gives 0.03036413
    eleven = pd.DataFrame({"x": range(1, 12), "y": [6, 5, 4, 3, 2, 1, 7, 11, 10, 9, 8]})
    assert_r(stats.run_test("spearman", eleven, x="x", y="y", alternative="greater").p_value, "0.03036413")


@pytest.mark.parametrize(("y", "s", "p"), [([1, 3, 6, 2, 7, 4, 9], "14", "0.06627"),
                                           ([1, 3, 6, 2, 7, 4, 6], "21.692", "0.1436")])
def test_spearman_small_samples_match_r(y: list[int], s: str, p: str) -> None:
    # stats.stackexchange.com/q/235024 (R sessions): exact for n = 7 without ties, t approximation with a tie
    res = stats.run_test("spearman", pd.DataFrame({"x": range(1, 8), "y": y}), x="x", y="y")
    assert_r(res.statistic, s)
    assert_r(res.p_value, p)


@pytest.mark.parametrize(("frame", "s", "p", "rho"), [(MPG, "6.0666", "0.0008915", "0.9277782"),
                                                      (ICE, "769.4403", "1.543e-08", "0.828823")])
def test_spearman_with_ties_matches_r(frame: pd.DataFrame, s: str, p: str, rho: str) -> None:
    res = stats.run_test("spearman", frame, x="x", y="y")
    assert_r(res.statistic, s)
    assert_r(res.p_value, p)
    assert_r(res.estimate, rho)


# --- counts ----------------------------------------------------------------------------------------------

def test_chi_squared_independence_matches_r() -> None:
    # ?chisq.test: M <- as.table(rbind(c(762, 327, 468), c(484, 239, 477))); chisq.test(M)
    res = stats.run_test("chi2_independence", None, table=[[762, 327, 468], [484, 239, 477]])
    assert_r(res.statistic, "30.07")
    assert_r(res.df, "2")
    assert_r(res.p_value, "2.954e-07")


def test_chi_squared_2x2_applies_yates_correction_like_r() -> None:
    # chisq.test(TeaTasting): R's Yates formula sum((|O - E| - 0.5)^2 / E) gives X-squared = 0.5, p-value = 0.4795
    res = stats.run_test("chi2_independence", None, table=[[3, 1], [1, 3]])
    assert "Yates" in res.method
    assert_r(res.statistic, "0.5")
    assert_r(res.p_value, "0.4795")
    assert res.assumptions[0].passed is False and res.recommendation


def test_chi_squared_goodness_of_fit_matches_r() -> None:
    # ?chisq.test: x <- c(A = 20, B = 15, C = 25); chisq.test(x)
    res = stats.run_test("chi2_goodness_of_fit", None, table={"A": 20, "B": 15, "C": 25})
    assert_r(res.statistic, "2.5")
    assert_r(res.df, "2")
    assert_r(res.p_value, "0.2865")


def test_fisher_tea_tasting_matches_r() -> None:
    # ?fisher.test: fisher.test(TeaTasting, alternative = "greater")
    res = stats.run_test("fisher_exact", None, table=[[3, 1], [1, 3]], alternative="greater")
    assert_r(res.p_value, "0.2429")
    assert_r(res.ci_low, "0.3135693")
    assert_r(res.ci_high, "Inf")
    assert_r(res.estimate, "6.408309")


def test_fisher_two_sided_conditional_mle_and_ci_match_r() -> None:
    # fisher.test(TeaTasting): p-value = 0.4857, 95 percent CI 0.2117329 621.9337505, odds ratio 6.408309
    res = stats.run_test("fisher_exact", None, table=[[3, 1], [1, 3]])
    assert_r(res.p_value, "0.4857")
    assert_r(res.ci_low, "0.2117329")
    assert_r(res.ci_high, "621.9337505")
    assert_r(res.estimate, "6.408309")


def test_fisher_convictions_matches_r() -> None:
    # ?fisher.test: Convictions <- matrix(c(2, 10, 15, 3), nrow = 2); fisher.test(Convictions, alternative = "less")
    res = stats.run_test("fisher_exact", None, table=[[2, 15], [10, 3]], alternative="less")
    assert_r(res.p_value, "0.0004652")
    assert_r(res.ci_low, "0")
    assert_r(res.ci_high, "0.2849601")
    assert_r(res.estimate, "0.04693661")


def test_fisher_r_by_c_job_satisfaction_matches_r() -> None:
    # ?fisher.test: Job <- matrix(c(1,2,1,0, 3,3,6,1, 10,10,14,9, 6,7,12,11), 4, 4); fisher.test(Job)
    job = [[1, 3, 10, 6], [2, 3, 10, 7], [1, 6, 14, 12], [0, 1, 9, 11]]
    res = stats.run_test("fisher_exact", None, table=job)
    assert_r(res.p_value, "0.7827")


def test_mcnemar_matches_r() -> None:
    # ?mcnemar.test: Performance <- matrix(c(794, 86, 150, 570), nrow = 2)
    performance = [[794, 150], [86, 570]]
    corrected = stats.run_test("mcnemar", None, table=performance)
    # R's statistic (|b - c| - 1)^2 / (b + c) = 63^2 / 236 printed as 16.818, p-value 4.115e-05
    assert_r(corrected.statistic, "16.818")
    assert_r(corrected.p_value, "4.115e-05")
    # PSU STAT 504 (R session, correct = FALSE): McNemar's chi-squared = 17.3559, p-value = 3.099e-05
    plain = stats.run_test("mcnemar", None, table=performance, correct=False)
    assert_r(plain.statistic, "17.3559")
    assert_r(plain.p_value, "3.099e-05")


def test_binomial_matches_r() -> None:
    # ?binom.test: binom.test(c(682, 243), p = 3/4)
    res = stats.run_test("binomial", None, table=[682, 243], p=0.75)
    assert_r(res.p_value, "0.3825")
    assert_r(res.ci_low, "0.7076683")
    assert_r(res.ci_high, "0.7654066")
    assert_r(res.estimate, "0.7372973")


def test_proportions_smokers_matches_r() -> None:
    # ?prop.test: smokers <- c(83, 90, 129, 70); patients <- c(86, 93, 136, 82); prop.test(smokers, patients)
    res = stats.run_test("proportions", None, table=[[83, 3], [90, 3], [129, 7], [70, 12]])
    assert_r(res.statistic, "12.6")
    assert_r(res.df, "3")
    assert_r(res.p_value, "0.005585")


# --- variances and normality -----------------------------------------------------------------------------

def test_bartlett_on_insectsprays_matches_r() -> None:
    # ?bartlett.test: bartlett.test(count ~ spray, data = InsectSprays)
    res = stats.run_test("bartlett", INSECT, value="count", group="spray")
    assert_r(res.statistic, "25.96")
    assert_r(res.df, "5")
    assert_r(res.p_value, "9.085e-05")


def test_levene_is_brown_forsythe_like_car() -> None:
    # car::leveneTest default (center = median) is the one-way ANOVA F on |x - group median|
    res = stats.run_test("levene", INSECT, value="count", group="spray")
    medians = INSECT.groupby("spray")["count"].transform("median")
    spread = INSECT.assign(dev=(INSECT["count"] - medians).abs())
    anova = stats.run_test("anova_oneway", spread, value="dev", group="spray")
    assert res.statistic == pytest.approx(anova.statistic, rel=1e-12)
    assert res.p_value == pytest.approx(anova.p_value, rel=1e-10)
    assert (res.df, res.df2) == (5, 66)


def test_shapiro_on_toothgrowth_matches_r() -> None:
    # shapiro.test(ToothGrowth$len) (R session reproduced in STHDA's normality tutorial)
    res = stats.run_test("shapiro", TOOTH, value="len")
    assert_r(res.statistic, "0.96743")
    assert_r(res.p_value, "0.1091")


# --- power, multiple testing -----------------------------------------------------------------------------

def test_power_t_test_matches_r() -> None:
    # ?power.t.test examples
    assert_r(stats.power_ttest(n=20, delta=1).power, "0.8689528")
    assert_r(stats.power_ttest(power=0.90, delta=1).n, "22.02110")
    assert_r(stats.power_ttest(power=0.90, delta=1, alternative="one-sided").n, "17.84713")


def test_power_prop_test_matches_r() -> None:
    # ?power.prop.test examples: power = 0.7401659; "=> n = 76.7"; "=> p2 = 0.8026"
    assert_r(stats.power_proportions(n=50, p1=0.5, p2=0.75).power, "0.7401659")
    plan = stats.power_proportions(p1=0.5, p2=0.75, power=0.90)
    assert_r(plan.n, "76.7")
    assert plan.n_required == 77
    assert_r(stats.power_proportions(n=50, p1=0.5, power=0.90).p2, "0.8026")


def test_p_adjust_matches_r_definitions() -> None:
    p = [0.01, 0.02, 0.03, 0.04, 0.05]
    # p.adjust(p, "holm") = 0.05 0.08 0.09 0.09 0.09 ; p.adjust(p, "BH") = 0.05 x 5
    assert stats.adjust_pvalues(p, "holm") == pytest.approx([0.05, 0.08, 0.09, 0.09, 0.09])
    assert stats.adjust_pvalues(p, "BH") == pytest.approx([0.05] * 5)
    # an unsorted input keeps its order: p.adjust(c(0.04, 0.001, 0.03), "holm") = 0.06 0.003 0.06
    assert stats.adjust_pvalues([0.04, 0.001, 0.03], "holm") == pytest.approx([0.06, 0.003, 0.06])
