"""Reference values of the daily-price indicators from TA-Lib (PyPI ta-lib, the C library's wrapper).

Reads a CSV with columns symbol, trade_date, close_price (any order of rows), computes per symbol,
in date order: RSI(14), MACD(12, 26, 9), SMA 7/30/50/200, BBANDS(20, 2, 2, SMA), and the MA50/MA200
cross signal by the model's rule (TA-Lib has no cross function; it is derived from TA-Lib's SMAs).
Writes a CSV with one row per input row; missing values are empty. Floats are written exactly, or
with --digits significant digits. With --exact-bands, also the Bollinger Bands from a two-pass
population standard deviation (numpy): TA-Lib's BBANDS takes the variance as mean(x^2) - mean^2 from
running sums, which is off by up to ~1e-4 in windows of (nearly) equal closes of a few hundred EGP.

    python talib_reference.py closes.csv reference.csv [--digits N] [--exact-bands]
"""

import argparse
import csv
from collections import defaultdict

import numpy as np
import talib

COLUMNS = [
    "rsi_14",
    "macd_12_26",
    "macd_signal_9",
    "macd_histogram",
    "ma_7",
    "ma_30",
    "ma_50",
    "ma_200",
    "bb_upper_20",
    "bb_middle_20",
    "bb_lower_20",
]


def cross_signals(ma50, ma200):
    """GOLDEN_CROSS / DEATH_CROSS / NONE from day 200 on (None before), as the model defines them."""
    out = []
    prev_side = None
    for a, b in zip(ma50, ma200):
        if np.isnan(b):
            out.append(None)
            prev_side = None
            continue
        side = 1 if a > b * (1 + 1e-9) else -1 if a < b * (1 - 1e-9) else 0
        if prev_side is not None and side == 1 and prev_side <= 0:
            out.append("GOLDEN_CROSS")
        elif prev_side is not None and side == -1 and prev_side >= 0:
            out.append("DEATH_CROSS")
        else:
            out.append("NONE")
        prev_side = side
    return out


def exact_bands(close):
    """Middle band +- 2 population sigmas over 20 closes, each window's sigma computed around its mean."""
    upper = np.full(len(close), np.nan)
    lower = np.full(len(close), np.nan)
    if len(close) >= 20:
        windows = np.lib.stride_tricks.sliding_window_view(close, 20)
        mean = windows.mean(axis=1)
        sigma = np.sqrt(((windows - mean[:, None]) ** 2).mean(axis=1))
        upper[19:] = mean + 2 * sigma
        lower[19:] = mean - 2 * sigma
    return upper, lower


def indicators(close):
    macd, signal, hist = talib.MACD(close, fastperiod=12, slowperiod=26, signalperiod=9)
    upper, middle, lower = talib.BBANDS(close, timeperiod=20, nbdevup=2, nbdevdn=2, matype=0)
    ma50 = talib.SMA(close, 50)
    ma200 = talib.SMA(close, 200)
    values = {
        "rsi_14": talib.RSI(close, 14),
        "macd_12_26": macd,
        "macd_signal_9": signal,
        "macd_histogram": hist,
        "ma_7": talib.SMA(close, 7),
        "ma_30": talib.SMA(close, 30),
        "ma_50": ma50,
        "ma_200": ma200,
        "bb_upper_20": upper,
        "bb_middle_20": middle,
        "bb_lower_20": lower,
    }
    return values, cross_signals(ma50, ma200)


def main(src, dst, digits=None, with_exact_bands=False):
    show = repr if digits is None else (lambda x: format(x, f".{digits}g"))
    columns = COLUMNS + (["bb_upper_20_exact", "bb_lower_20_exact"] if with_exact_bands else [])
    bars = defaultdict(list)
    with open(src, newline="") as f:
        for row in csv.DictReader(f):
            bars[row["symbol"]].append((row["trade_date"], float(row["close_price"])))
    with open(dst, "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["symbol", "trade_date", *columns, "ma_cross_signal"])
        for symbol in sorted(bars):
            days = sorted(bars[symbol])
            close = np.array([c for _, c in days], dtype=np.float64)
            values, crosses = indicators(close)
            if with_exact_bands:
                values["bb_upper_20_exact"], values["bb_lower_20_exact"] = exact_bands(close)
            for i, (day, _) in enumerate(days):
                cells = ["" if np.isnan(values[c][i]) else show(float(values[c][i])) for c in columns]
                out.writerow([symbol, day, *cells, crosses[i] or ""])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="TA-Lib's values of the daily-price indicators")
    parser.add_argument("closes")
    parser.add_argument("reference")
    parser.add_argument("--digits", type=int)
    parser.add_argument("--exact-bands", action="store_true")
    args = parser.parse_args()
    main(args.closes, args.reference, args.digits, args.exact_bands)
