"""Is a difference more than noise? The two tests the lab reports, and one sentence for each.

- Two trained models on the same test images: the exact McNemar test. Only the digits exactly
  one of them gets right carry information (b fixed, c broken); under "no difference" each of
  those is a fair coin, so p = min(1, 2 P[X <= min(b, c)]) with X ~ Binomial(b + c, 1/2). A small p
  says the two *trained models* differ on *this test set* beyond chance; it says nothing about
  their recipes on another seed.
- Two groups of seeds (one recipe trained several times each): the difference of the mean final
  test accuracies with a Welch t interval (unequal variances, Welch-Satterthwaite degrees of
  freedom). An interval that excludes 0 says the recipes differ beyond seed noise.

Exact arithmetic (math.comb, fractions) and a small Student-t in plain Python, so no SciPy.
Reading the predictions and the seed files is left to the callers (reports.comparison).
"""
from __future__ import annotations

import math
import statistics
from fractions import Fraction

ALPHA = 0.05
MCNEMAR_TEST = "exact McNemar (two-sided binomial test on the discordant pairs)"
SEED_TEST = "Welch t, 95% interval"


def mcnemar_p_value(fixed: int, broke: int) -> float:
    """Two-sided exact McNemar p-value of `fixed` (wrong before, right now) against `broke` (right
    before, wrong now): min(1, 2 P[X <= min(fixed, broke)]), X ~ Binomial(fixed + broke, 1/2).
    1.0 when the models never disagree."""
    if fixed < 0 or broke < 0:
        raise ValueError(f"counts must be >= 0, got fixed={fixed}, broke={broke}")
    total = fixed + broke
    tail = Fraction(sum(math.comb(total, k) for k in range(min(fixed, broke) + 1)), 2 ** total)
    return float(min(Fraction(1), 2 * tail))


def mcnemar_sentence(fixed: int, broke: int, p_value: float, old: str = "the old model",
                     new: str = "the new model") -> str:
    """What the McNemar result means, in one sentence that names the test."""
    counts = (f"exact McNemar test on the {fixed + broke} test digits exactly one of them gets right: "
              f"{fixed} fixed, {broke} broken, p = {p_value:.2g}")
    if p_value >= ALPHA:
        return f"The difference is not distinguishable from noise at 5% ({counts})."
    better, worse = (new, old) if fixed > broke else (old, new)
    return (f"{better} is better than {worse} on this test set beyond chance at 5% ({counts}); this is "
            f"about these two trained models, not their recipes on other seeds.")


def student_t_cdf(t: float, df: float) -> float:
    """P[T <= t] for Student's t with `df` (> 0, not necessarily whole) degrees of freedom."""
    tail = 0.5 * _regularized_beta(df / (df + t * t), df / 2, 0.5)
    return 1.0 - tail if t > 0 else tail


def student_t_quantile(probability: float, df: float) -> float:
    """The t with P[T <= t] = probability (bisection on the CDF; 0 < probability < 1)."""
    if not 0 < probability < 1:
        raise ValueError(f"probability must be in (0, 1), got {probability}")
    if probability < 0.5:
        return -student_t_quantile(1 - probability, df)
    low, high = 0.0, 1.0
    while student_t_cdf(high, df) < probability:
        high *= 2
    for _ in range(100):
        middle = (low + high) / 2
        low, high = (middle, high) if student_t_cdf(middle, df) < probability else (low, middle)
    return (low + high) / 2


def _regularized_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b) by its continued fraction (Lentz's method, as in Numerical Recipes' betacf)."""
    if x <= 0 or x >= 1:
        return 0.0 if x <= 0 else 1.0
    if x > (a + 1) / (a + b + 2):  # the fraction converges fast on this side only
        return 1.0 - _regularized_beta(1 - x, b, a)
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(1 - x)) / a
    tiny = 1e-300
    numerator, denominator = 1.0, 1.0 - (a + b) * x / (a + 1)
    denominator = 1.0 / (denominator if abs(denominator) > tiny else tiny)
    result = denominator
    for m in range(1, 300):
        for coefficient in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            denominator = 1.0 + coefficient * denominator
            denominator = 1.0 / (denominator if abs(denominator) > tiny else tiny)
            numerator = 1.0 + coefficient / numerator
            numerator = numerator if abs(numerator) > tiny else tiny
            result *= numerator * denominator
        if abs(numerator * denominator - 1.0) < 1e-15:
            break
    return front * result


def welch_interval(old: list[float], new: list[float], confidence: float = 0.95) -> dict | None:
    """mean(new) - mean(old) with its Welch t interval: {difference, low, high, df, counts}.
    None with fewer than two values on a side (no variance to estimate)."""
    if len(old) < 2 or len(new) < 2:
        return None
    difference = statistics.mean(new) - statistics.mean(old)
    shares = [statistics.variance(values) / len(values) for values in (old, new)]
    error = math.sqrt(sum(shares))
    if error == 0:  # identical seeds on both sides: no spread, the interval is the point
        return {"difference": difference, "low": difference, "high": difference, "df": None,
                "counts": [len(old), len(new)]}
    old_share, new_share = shares  # Welch-Satterthwaite degrees of freedom
    df = (old_share + new_share) ** 2 / (old_share ** 2 / (len(old) - 1) + new_share ** 2 / (len(new) - 1))
    half = student_t_quantile(0.5 + confidence / 2, df) * error
    return {"difference": difference, "low": difference - half, "high": difference + half, "df": df,
            "counts": [len(old), len(new)]}


def seed_sentence(interval: dict, old: str = "the old model", new: str = "the new model") -> str:
    """What a Welch interval of mean final test accuracies (points) means, naming the test."""
    figures = (f"{SEED_TEST}: {new} - {old} mean final test accuracy {interval['difference']:+.2f} points "
               f"[{interval['low']:+.2f}, {interval['high']:+.2f}] over {interval['counts'][0]} and "
               f"{interval['counts'][1]} seeds")
    if interval["low"] <= 0 <= interval["high"]:
        return f"Over seeds the recipes are not distinguishable from seed noise ({figures})."
    better = new if interval["difference"] > 0 else old
    return f"Over seeds {better} is better beyond seed noise ({figures})."
