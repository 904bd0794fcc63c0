-- One row per symbol and trading day with its risk figures: annualised volatility, historical VaR,
-- beta and correlation to EGX30, drawdown. A return runs from a symbol's previous trading day to
-- this one (rows, not calendar days); EGX30's return is taken over the same two dates, so a
-- symbol that did not trade for a few days is compared with the index over the same span. Every
-- figure is null until its window is full.

-- An incremental build rebuilds the days from the first changed one on, reading before them each
-- symbol's last 251 bars (the longest window, 250 returns); for the drawdown it also reads the
-- peak and the deepest drawdown of every earlier bar. A full build reads every bar once.
with recent as (
    select
        symbol,
        trade_date,
        row_number() over (partition by symbol order by trade_date desc) as age
    from {{ ref('stg_stock_prices_unified') }}
    where not ({{ incremental_input('trade_date') }})
),

earlier as (
    select symbol, min(trade_date) as read_from
    from recent
    where age <= 251
    group by symbol
),

-- EGX30's official close per day (stg_index_levels keeps the most trusted vendor's)
index_closes as (
    select trade_date, close_level as index_close
    from {{ ref('stg_index_levels') }}
    where index_code = 'EGX30' and close_level > 0
),

-- Incremental builds only: each symbol's highest close and deepest drawdown before the bars read
-- below, without a running peak over every one of those bars (a sort of all of them). A bar's
-- peak is the greater of the earlier years' peak and the running peak within its year, and (closes
-- being positive) its drawdown against the greater is the lower of its drawdowns against each.
-- So the deepest drawdown is the lower of
--   across: the deepest of each year's lowest close against the earlier years' peak (one row per
--     year, no running peak), and
--   within: the deepest drawdown against the running peak within a year, taken only for the years
--     where it could be deeper than `across`: none of a year's drawdowns within it is below its
--     lowest close against its highest.
-- These are the values a running peak over all the earlier bars gives, exactly.
history_years as (
    select
        p.symbol,
        year(p.trade_date) as trade_year,
        max(p.close_price) as year_peak,
        min(p.close_price) as year_low
    from {{ ref('stg_stock_prices_unified') }} p
    join earlier e on e.symbol = p.symbol
    where p.trade_date < e.read_from
    group by p.symbol, year(p.trade_date)
),

history_years_peaks as (
    select
        history_years.*,
        max(year_peak) over (
            partition by symbol order by trade_year rows between unbounded preceding and 1 preceding
        ) as peak_before_year
    from history_years
),

history_across as (
    select symbol, max(year_peak) as peak_before, min(year_low / peak_before_year - 1) as drawdown_across
    from history_years_peaks
    group by symbol
),

-- the bars of the years whose drawdown within could be deeper than across (null: one year only)
history_within_bars as (
    select
        p.symbol,
        p.close_price,
        max(p.close_price) over (
            partition by p.symbol, year(p.trade_date) order by p.trade_date
            rows between unbounded preceding and current row
        ) as peak_in_year
    from {{ ref('stg_stock_prices_unified') }} p
    join earlier e on e.symbol = p.symbol
    join history_years_peaks y on y.symbol = p.symbol and y.trade_year = year(p.trade_date)
    join history_across a on a.symbol = p.symbol
    where p.trade_date < e.read_from
        and (a.drawdown_across is null or y.year_low / y.year_peak - 1 < a.drawdown_across)
),

history_within as (
    select symbol, min(close_price / peak_in_year - 1) as drawdown_within
    from history_within_bars
    group by symbol
),

history_totals as (
    select
        a.symbol,
        a.peak_before,
        case
            when w.drawdown_within is null then a.drawdown_across
            when a.drawdown_across is null then w.drawdown_within
            else least(a.drawdown_across, w.drawdown_within)
        end as max_drawdown_before
    from history_across a
    left join history_within w on w.symbol = a.symbol
),

bars as (
    select
        p.symbol,
        p.trade_date,
        p.close_price,
        p.loaded_at,
        lag(p.trade_date) over (partition by p.symbol order by p.trade_date) as prev_date,
        lag(p.close_price) over (partition by p.symbol order by p.trade_date) as prev_close,
        greatest(
            coalesce(h.peak_before, 0),
            max(p.close_price) over (
                partition by p.symbol order by p.trade_date rows between unbounded preceding and current row
            )
        ) as peak,
        coalesce(h.max_drawdown_before, 0) as max_drawdown_before
    from {{ ref('stg_stock_prices_unified') }} p
    left join earlier e on e.symbol = p.symbol
    left join history_totals h on h.symbol = p.symbol
    where {{ incremental_input('p.trade_date') }} or p.trade_date >= e.read_from
),

returns as (
    select
        b.symbol,
        b.trade_date,
        b.close_price,
        b.loaded_at,
        b.close_price / b.peak - 1 as drawdown,
        b.max_drawdown_before,
        ln(b.close_price / b.prev_close) as log_return,
        b.close_price / b.prev_close - 1 as simple_return,
        ln(i.index_close / ip.index_close) as index_log_return
    from bars b
    left join index_closes i on i.trade_date = b.trade_date
    left join index_closes ip on ip.trade_date = b.prev_date
),

-- the pairs (stock, index) of days where both returns exist
pairs as (
    select
        returns.*,
        case when index_log_return is not null then log_return end as y,
        case when log_return is not null then index_log_return end as x
    from returns
),

windows as (
    select
        symbol,
        trade_date,
        close_price,
        loaded_at,
        log_return,
        index_log_return,
        drawdown,
        least(
            max_drawdown_before,
            min(drawdown) over (partition by symbol order by trade_date rows between unbounded preceding and current row)
        ) as max_drawdown,
        count(log_return) over (partition by symbol order by trade_date rows between 19 preceding and current row) as n_20,
        stddev_samp(log_return) over (partition by symbol order by trade_date rows between 19 preceding and current row) as sd_20,
        count(log_return) over (partition by symbol order by trade_date rows between 59 preceding and current row) as n_60,
        stddev_samp(log_return) over (partition by symbol order by trade_date rows between 59 preceding and current row) as sd_60,
        count(simple_return) over (partition by symbol order by trade_date rows between 249 preceding and current row) as n_250,
        quantile_cont(simple_return, 0.05) over (partition by symbol order by trade_date rows between 249 preceding and current row) as q05_250,
        -- running totals of the pairs; a window's sums are differences of two of them (see moments).
        -- The pairs are counted as a sum of ones: DuckDB's running count is about three times slower.
        coalesce(sum(case when y is not null then cast(1 as double) end) over (partition by symbol order by trade_date rows between unbounded preceding and current row), 0) as cn,
        coalesce(sum(x) over (partition by symbol order by trade_date rows between unbounded preceding and current row), 0) as cx,
        coalesce(sum(y) over (partition by symbol order by trade_date rows between unbounded preceding and current row), 0) as cy,
        coalesce(sum(x * y) over (partition by symbol order by trade_date rows between unbounded preceding and current row), 0) as cxy,
        coalesce(sum(x * x) over (partition by symbol order by trade_date rows between unbounded preceding and current row), 0) as cxx,
        coalesce(sum(y * y) over (partition by symbol order by trade_date rows between unbounded preceding and current row), 0) as cyy
    from pairs
),

-- the pairs' sums over the last 60 and 250 days, from the running totals
sums as (
    select
        windows.*,
        cn - coalesce(lag(cn, 60) over (partition by symbol order by trade_date), 0) as np_60,
        cx - coalesce(lag(cx, 60) over (partition by symbol order by trade_date), 0) as sx_60,
        cy - coalesce(lag(cy, 60) over (partition by symbol order by trade_date), 0) as sy_60,
        cxy - coalesce(lag(cxy, 60) over (partition by symbol order by trade_date), 0) as sxy_60,
        cxx - coalesce(lag(cxx, 60) over (partition by symbol order by trade_date), 0) as sxx_60,
        cyy - coalesce(lag(cyy, 60) over (partition by symbol order by trade_date), 0) as syy_60,
        cn - coalesce(lag(cn, 250) over (partition by symbol order by trade_date), 0) as np_250,
        cx - coalesce(lag(cx, 250) over (partition by symbol order by trade_date), 0) as sx_250,
        cy - coalesce(lag(cy, 250) over (partition by symbol order by trade_date), 0) as sy_250,
        cxy - coalesce(lag(cxy, 250) over (partition by symbol order by trade_date), 0) as sxy_250,
        cxx - coalesce(lag(cxx, 250) over (partition by symbol order by trade_date), 0) as sxx_250,
        cyy - coalesce(lag(cyy, 250) over (partition by symbol order by trade_date), 0) as syy_250
    from windows
),

-- co-moments: n times the covariance and the variances of the pairs
moments as (
    select
        sums.*,
        sxy_60 - sx_60 * sy_60 / nullif(np_60, 0) as cxy_60,
        sxx_60 - sx_60 * sx_60 / nullif(np_60, 0) as cxx_60,
        syy_60 - sy_60 * sy_60 / nullif(np_60, 0) as cyy_60,
        sxy_250 - sx_250 * sy_250 / nullif(np_250, 0) as cxy_250,
        sxx_250 - sx_250 * sx_250 / nullif(np_250, 0) as cxx_250,
        syy_250 - sy_250 * sy_250 / nullif(np_250, 0) as cyy_250
    from sums
)

select
    m.symbol,
    m.trade_date,
    m.close_price,
    m.log_return,
    m.index_log_return,
    case when n_20 = 20 then sd_20 * sqrt(252) end as volatility_20d,
    case when n_60 = 60 then sd_60 * sqrt(252) end as volatility_60d,
    case when n_250 = 250 then -q05_250 end as var_95_1d,
    case when np_60 = 60 and cxx_60 > 0 then cxy_60 / cxx_60 end as beta_60d,
    -- within [-1, 1] also when rounding would step over
    case when np_60 = 60 and cxx_60 > 0 and cyy_60 > 0 then least(1, greatest(-1, cxy_60 / sqrt(cxx_60 * cyy_60))) end as correlation_60d,
    case when np_250 = 250 and cxx_250 > 0 then cxy_250 / cxx_250 end as beta_250d,
    case when np_250 = 250 and cxx_250 > 0 and cyy_250 > 0 then least(1, greatest(-1, cxy_250 / sqrt(cxx_250 * cyy_250))) end as correlation_250d,
    m.drawdown,
    m.max_drawdown,
    m.loaded_at
from moments m
