/**
 * TA-Lib, the reference the daily-price indicators are checked against: its Python wrapper (PyPI
 * `ta-lib`, manylinux wheels with the C library inside) in a virtualenv under the devstack folder,
 * installed once, and `talib_reference.py` run on a CSV of closes.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROFILES } from '../scripts/devstack/profile.js';
import { installVenv } from '../scripts/devstack/venv.js';

export const TALIB_PACKAGES = ['ta-lib==0.6.8', 'numpy==2.3.5'];
const SCRIPT = fileURLToPath(new URL('talib_reference.py', import.meta.url));

/** The virtualenv's python, after installing TA-Lib into it if needed. */
export async function talibPython(): Promise<string> {
  const { installDir } = PROFILES.dev;
  const venv = join(installDir, 'talib-venv');
  const python = join(venv, 'bin', 'python');
  await installVenv({
    venv,
    packages: TALIB_PACKAGES,
    purpose: 'TA-Lib (the indicators reference)',
    logFile: join(installDir, 'logs', 'install-talib.log'),
    expect: [python],
  });
  return python;
}

/**
 * Writes TA-Lib's values for the closes in `closesCsv` (columns symbol, trade_date, close_price) to
 * `outCsv`: one row per input row with rsi_14, macd_12_26, macd_signal_9, macd_histogram, ma_7, ma_30,
 * ma_50, ma_200, bb_upper_20, bb_middle_20, bb_lower_20 and ma_cross_signal; empty where TA-Lib has none.
 * Floats exactly, or to `digits` significant digits; with `exactBands`, also bb_upper_20_exact and
 * bb_lower_20_exact from a two-pass standard deviation (TA-Lib's is off in windows of equal closes).
 */
export async function talibReference(
  closesCsv: string,
  outCsv: string,
  opts: { digits?: number; exactBands?: boolean } = {},
): Promise<void> {
  const args = [
    SCRIPT,
    closesCsv,
    outCsv,
    ...(opts.digits ? ['--digits', String(opts.digits)] : []),
    ...(opts.exactBands ? ['--exact-bands'] : []),
  ];
  execFileSync(await talibPython(), args, { stdio: 'inherit' });
}

/** The indicator columns the reference gives, with the model's names. */
export const REFERENCE_COLUMNS = [
  'rsi_14',
  'macd_12_26',
  'macd_signal_9',
  'macd_histogram',
  'ma_7',
  'ma_30',
  'ma_50',
  'ma_200',
  'bb_upper_20',
  'bb_middle_20',
  'bb_lower_20',
] as const;
