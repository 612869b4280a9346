#!/usr/bin/env python3
"""Expected results for common/decimal.c, computed with Python's decimal
and fractions modules: the differential half of tests/unit/test_decimal.c.

The test program runs this script (deterministic for a seed) and compares
every line with its own result. One case per line, numbers as integer
coefficient and scale so that parsing is not trusted to check arithmetic:

  parse STATUS COEF SCALE TEXT       (TEXT is the rest of the line)
  fmt COEF SCALE TEXT
  fixed MODE COEF SCALE PLACES TEXT
  add|sub|mul|mulr|div MODE CA SA CB SB STATUS COEF SCALE
  round MODE CA SA PLACES STATUS COEF SCALE
  toint MODE CA SA INT
  cmp CA SA CB SB SIGN

STATUS is ok, overflow, inexact, divzero or syntax (COEF SCALE are 0 0 unless ok).
The iex semantics are restated here independently of the C code: results
keep their natural scale (max for +/-, sum for *, a.scale - b.scale for /)
and drop trailing zeros only to fit; quotients that are not exact are
rounded to the most digits that fit (18 significant digits or 18
decimals); rounding is done by the decimal module itself.

Usage: decimal_oracle.py [--seed N] [--n CASES_PER_OP]
"""

import argparse
import random
import re
from decimal import (Context, Decimal, ROUND_DOWN, ROUND_HALF_DOWN,
                     ROUND_HALF_EVEN, ROUND_HALF_UP)
from fractions import Fraction

MAX = 10**18 - 1
MODES = ["half_up", "half_even", "half_away_from_zero", "half_down", "down"]
EXACT = Context(prec=400, Emax=10**6, Emin=-10**6)
JSON_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def py_rounding(mode, negative):
    """Python's rule for our `mode` on a value of the given sign. Python's
    ROUND_HALF_UP sends ties away from zero; ours sends them to +infinity."""
    if mode == "half_up":
        return ROUND_HALF_DOWN if negative else ROUND_HALF_UP
    if mode == "half_down":
        return ROUND_HALF_UP if negative else ROUND_HALF_DOWN
    return {"half_even": ROUND_HALF_EVEN, "half_away_from_zero": ROUND_HALF_UP,
            "down": ROUND_DOWN}[mode]


def dec(coef, scale):
    return Decimal(coef).scaleb(-scale, EXACT)


def parts(d):
    """(coef, scale) of an exact Decimal, scale >= 0."""
    sign, digits, exp = d.as_tuple()
    coef = int("".join(map(str, digits)) or "0")
    scale = -exp
    if scale < 0:
        coef *= 10**(-scale)
        scale = 0
    return (-coef if sign else coef), scale


def fit(d):
    """The iex rule for an exact result: drop trailing zeros only to fit."""
    coef, scale = parts(d)
    mag = abs(coef)
    while (scale > 18 or mag > MAX) and scale > 0 and mag % 10 == 0:
        mag //= 10
        scale -= 1
    if scale <= 18 and mag <= MAX:
        return "ok", (-mag if coef < 0 else mag), scale
    return ("overflow" if mag // 10**scale > MAX else "inexact"), 0, 0


def round_fraction(x, mode):
    """x (a Fraction) rounded to an integer with `mode`, by the decimal
    module. Truncating at 150 digits cannot create or hide a tie: with
    denominators below 10^40, a run of zeros or nines after the integer
    digits is at most 40 long unless the expansion ends."""
    negative = x < 0
    m = abs(x)
    ctx = Context(prec=150, rounding=ROUND_DOWN, Emax=10**6, Emin=-10**6)
    q = ctx.divide(Decimal(m.numerator), Decimal(m.denominator))
    r = q.quantize(Decimal(1), rounding=py_rounding(mode, negative), context=EXACT)
    return -int(r) if negative else int(r)


def op_div(a, sa, b, sb, mode):
    if b == 0:
        return "divzero", 0, 0
    q = Fraction(a, 10**sa) / Fraction(b, 10**sb)
    for s in range(max(0, sa - sb), 19):
        x = q * 10**s
        if x.denominator == 1:
            if abs(x.numerator) <= MAX:
                return "ok", x.numerator, s
            break
    for s in range(18, -1, -1):
        c = round_fraction(q * 10**s, mode)
        if abs(c) <= MAX:
            return "ok", c, s
    return "overflow", 0, 0


def op_mulr(a, sa, b, sb, mode):
    exact = EXACT.multiply(dec(a, sa), dec(b, sb))
    st = fit(exact)
    if st[0] != "inexact":
        return st
    scale = sa + sb
    for drop in range(max(scale - 18, 1), scale + 1):
        c = round_fraction(Fraction(a * b, 10**drop), mode)
        if abs(c) <= MAX:
            return "ok", c, scale - drop
    return "overflow", 0, 0


def op_round(a, sa, places, mode):
    if places < sa:
        c = round_fraction(Fraction(a, 10**(sa - places)), mode)
        return "ok", c, places
    if abs(a) * 10**(places - sa) <= MAX:
        return "ok", a * 10**(places - sa), places
    return "ok", a, sa


def fmt_fixed(a, sa, places, mode):
    if places < sa:
        _, a, sa = op_round(a, sa, places, mode)
    return format(dec(a, sa).quantize(Decimal(1).scaleb(-places), context=EXACT), "f")


# ---- random operands ----------------------------------------------------

SPECIAL = [0, 1, 5, 9, 10, 15, 25, 45, 50, 55, 95, 99, 100, 125, 999,
           10**17, 5 * 10**17, 10**18 - 1, 10**18 - 5, 999999999999999995,
           123456789012345678, 333333333333333333]
SMALL_DIVISORS = [1, 2, 3, 4, 5, 6, 7, 8, 16, 25, 32, 64, 125, 400, 3125, 10**9 + 7]


def rand_decimal(rng):
    r = rng.random()
    if r < 0.25:
        coef = rng.choice(SPECIAL)
    elif r < 0.35:
        coef = rng.choice(SMALL_DIVISORS)
    else:
        digits = rng.randint(1, 18)
        coef = rng.randint(10**(digits - 1), 10**digits - 1)
    if rng.random() < 0.5:
        coef = -coef
    r = rng.random()
    if r < 0.3:
        scale = rng.choice([0, 2])
    elif r < 0.4:
        scale = 18
    else:
        scale = rng.randint(0, 18)
    return coef, scale


def rand_number_text(rng):
    """Mostly valid JSON numbers, some malformed, some too long."""
    r = rng.random()
    if r < 0.15:
        return rng.choice(["", "-", "+1", "01", "-01", "1.", ".5", "1e", "1e+",
                           "1.5.2", "1,5", " 1", "1 ", "--1", "0x10", "1e5.5",
                           "Infinity", "NaN", "1_000", "00", "-.5", "1E-", "e5",
                           "0.", "٣", "1f"])
    s = "-" if rng.random() < 0.4 else ""
    n_int = rng.choice([1, 1, 2, 3, 5, 10, 17, 18, 19, 25])
    if rng.random() < 0.3:
        s += "0"
    else:
        s += str(rng.randint(1, 9)) + "".join(rng.choice("0123456789") for _ in range(n_int - 1))
    if rng.random() < 0.7:
        n_frac = rng.choice([1, 2, 2, 2, 3, 6, 12, 17, 18, 19, 22, 30])
        frac = "".join(rng.choice("0123456789" if rng.random() < 0.7 else "0") for _ in range(n_frac))
        if rng.random() < 0.2:
            frac += "0" * rng.randint(1, 25)
        s += "." + frac
    if rng.random() < 0.25:
        s += rng.choice("eE") + rng.choice(["", "+", "-"]) + str(rng.randint(0, 40))
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--n", type=int, default=2000)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    out = []
    for _ in range(args.n):
        text = rand_number_text(rng)
        if JSON_NUMBER.fullmatch(text):
            st, c, s = fit(Decimal(text))
        else:
            st, c, s = "syntax", 0, 0
        out.append(f"parse {st} {c} {s} {text}")
    for _ in range(args.n):
        a, sa = rand_decimal(rng)
        out.append(f"fmt {a} {sa} {format(dec(a, sa), 'f')}")
        places, mode = rng.randint(0, 18), rng.choice(MODES)
        out.append(f"fixed {mode} {a} {sa} {places} {fmt_fixed(a, sa, places, mode)}")
    for _ in range(args.n):
        (a, sa), (b, sb) = rand_decimal(rng), rand_decimal(rng)
        mode = rng.choice(MODES)
        for name, res in (("add", fit(EXACT.add(dec(a, sa), dec(b, sb)))),
                          ("sub", fit(EXACT.subtract(dec(a, sa), dec(b, sb)))),
                          ("mul", fit(EXACT.multiply(dec(a, sa), dec(b, sb)))),
                          ("mulr", op_mulr(a, sa, b, sb, mode)),
                          ("div", op_div(a, sa, b, sb, mode))):
            out.append(f"{name} {mode} {a} {sa} {b} {sb} {res[0]} {res[1]} {res[2]}")
        cmp = (dec(a, sa) > dec(b, sb)) - (dec(a, sa) < dec(b, sb))
        out.append(f"cmp {a} {sa} {b} {sb} {cmp}")
        places = rng.randint(0, 18)
        st, c, s = op_round(a, sa, places, mode)
        out.append(f"round {mode} {a} {sa} {places} {st} {c} {s}")
        out.append(f"toint {mode} {a} {sa} {round_fraction(Fraction(a, 10**sa), mode)}")
    print("\n".join(out))


if __name__ == "__main__":
    main()
