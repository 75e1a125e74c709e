"""Fits the coefficients of csrc/vec_math.h's verf: ``python tools/fit_erf.py`` (needs mpmath).

For |x| <= 0.9, erf(x) / x as a polynomial in s = x^2; above, erfc(x) exp(x^2) as a rational
function of x (fitted as P(u)/Q(u) in u = 1/x, whose coefficients read backwards are those in
x), capped at 4 (float) or 6 (double) where erf rounds to 1. Prints the largest relative error
of each fit and the coefficients, lowest power first.
"""
import mpmath as mp

mp.mp.dps = 40


def nodes(lo, hi, count):
    return [mp.mpf(lo) + (mp.mpf(hi) - lo) * (1 - mp.cos(mp.pi * (i + 0.5) / count)) / 2
            for i in range(count)]


def rational_fit(fn, lo, hi, m, n, count=300, rounds=6):
    """P/Q (Q(0) = 1) minimising the relative error of fn on Chebyshev nodes; the linearised
    least-squares problem is reweighted by the previous Q each round."""
    vs = nodes(lo, hi, count)
    fv = [fn(v) for v in vs]
    q = [mp.mpf(1)]
    for _ in range(rounds):
        a = mp.matrix(count, m + 1 + n)
        b = mp.matrix(count, 1)
        for i, v in enumerate(vs):
            s = 1 / (fv[i] * mp.polyval(q[::-1], v))
            for j in range(m + 1):
                a[i, j] = v**j * s
            for j in range(1, n + 1):
                a[i, m + j] = -fv[i] * v**j * s
            b[i] = fv[i] * s
        c = mp.qr_solve(a, b)[0]
        p, q = [c[j] for j in range(m + 1)], [mp.mpf(1)] + [c[m + j] for j in range(1, n + 1)]
    return p, q


def max_relative_error(fn, p, q, lo, hi):
    vs = [mp.mpf(lo) + (mp.mpf(hi) - lo) * i / 3000 for i in range(3001)]
    return max(abs(mp.polyval(p[::-1], v) / mp.polyval(q[::-1], v) / fn(v) - 1) for v in vs)


X0 = mp.mpf("0.9")
small = lambda s: mp.erf(mp.sqrt(s)) / mp.sqrt(s) if s > 0 else 2 / mp.sqrt(mp.pi)
scaled_erfc = lambda u: mp.erfc(1 / u) * mp.exp(1 / u**2)   # of u = 1/x
for name, deg, xmax, m in [("float", 5, 4, 4), ("double", 10, 6, 7)]:
    c, one = rational_fit(small, 0, X0**2, deg, 0, 200, 1)
    p, q = rational_fit(scaled_erfc, mp.mpf(1) / xmax, 1 / X0, m, m)
    print(name, "small", mp.nstr(max_relative_error(small, c, one, 0, X0**2), 3), "large",
          mp.nstr(max_relative_error(scaled_erfc, p, q, mp.mpf(1) / xmax, 1 / X0), 3))
    print(" small (ascending in s):", ", ".join(mp.nstr(x, 21) for x in c))
    print(" num (ascending in x):", ", ".join(mp.nstr(x, 21) for x in p[::-1]))
    print(" den (ascending in x):", ", ".join(mp.nstr(x, 21) for x in q[::-1]))
