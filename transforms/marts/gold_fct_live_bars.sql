-- One row per symbol, trading day and streamed intraday bar, with the session's running figures
-- up to that bar: volume, VWAP and RSI(14) on the session's bars. A live model: the market
-- session refreshes it after each poll, rebuilding only the days whose bars were loaded since.

-- The streamed intraday bars of the days being rebuilt (daily bars left out).
with bars as (
    select
        symbol,
        trade_date,
        bar_interval,
        ts,
        open_price,
        high_price,
        low_price,
        close_price,
        volume,
        market_source,
        loaded_at,
        case bar_interval when '1m' then 1 when '5m' then 5 when '1h' then 60 end as interval_minutes
    from {{ source('RAW', 'STREAM_BARS') }}
    where bar_interval in ('1m', '5m', '1h') and {{ incremental_input('trade_date') }}
),

-- A day may hold a symbol's bars at more than one interval (a 5-minute session and a 1-minute
-- backfill): its finest one counts, so no trade is counted twice.
finest as (
    select symbol, trade_date, min(interval_minutes) as interval_minutes
    from bars
    group by symbol, trade_date
),

session_bars as (
    select b.*
    from bars b
    join finest f on f.symbol = b.symbol and f.trade_date = b.trade_date and f.interval_minutes = b.interval_minutes
),

-- The session's open: the day's first bar of any symbol (minutes after midnight UTC), so the time
-- into the session compares across days whatever Cairo's offset from UTC is that day.
market_open as (
    select trade_date, min(extract(hour from ts) * 60 + extract(minute from ts)) as open_minute
    from session_bars
    group by trade_date
),

numbered as (
    select
        b.*,
        extract(hour from b.ts) * 60 + extract(minute from b.ts) + b.interval_minutes - o.open_minute
            as minutes_into_session,
        row_number() over (partition by b.symbol, b.trade_date order by b.ts) - 1 as rn,
        lag(b.close_price) over (partition by b.symbol, b.trade_date order by b.ts) as prev_close,
        sum(b.volume) over (
            partition by b.symbol, b.trade_date order by b.ts rows between unbounded preceding and current row
        ) as session_volume,
        sum(b.volume * (b.high_price + b.low_price + b.close_price) / 3) over (
            partition by b.symbol, b.trade_date order by b.ts rows between unbounded preceding and current row
        ) as session_turnover
    from session_bars b
    join market_open o on o.trade_date = b.trade_date
),

-- RSI(14) with Wilder's smoothing, as gold_fct_stock_daily_prices computes it over days: the
-- average y(t) = (13 * y(t - 1) + x(t)) / 14 seeded on bar 14 (counting from 0) by the mean of
-- the first 14 gains (losses) is the sum y(t) = (13/14)^t / 14 * sum over k <= t of (14/13)^k * z(k),
-- with z the gains (losses) after bar 14 and, for bars 1-14, weights that make y(14) their mean.
-- A session has at most 270 one-minute bars, so (14/13)^k stays below 1e9.
steps as (
    select
        numbered.*,
        case when rn between 1 and 14 then power(cast(14 as double) / 13, 14 - rn) else 1 end
            * (case when close_price > prev_close then close_price - prev_close else 0 end) as z_gain,
        case when rn between 1 and 14 then power(cast(14 as double) / 13, 14 - rn) else 1 end
            * (case when close_price < prev_close then prev_close - close_price else 0 end) as z_loss
    from numbered
),

averages as (
    select
        steps.*,
        power(cast(13 as double) / 14, rn) / 14 * sum(z_gain * power(cast(14 as double) / 13, rn)) over (
            partition by symbol, trade_date order by ts rows between unbounded preceding and current row
        ) as avg_gain,
        power(cast(13 as double) / 14, rn) / 14 * sum(z_loss * power(cast(14 as double) / 13, rn)) over (
            partition by symbol, trade_date order by ts rows between unbounded preceding and current row
        ) as avg_loss
    from steps
)

select
    symbol,
    trade_date,
    ts as bar_ts,
    bar_interval,
    rn + 1 as bar_number,
    minutes_into_session,
    open_price,
    high_price,
    low_price,
    close_price,
    volume,
    session_volume,
    case when session_volume > 0 then session_turnover / session_volume end as session_vwap,
    case
        when rn < 14 then null
        when avg_gain + avg_loss < 1e-14 then 0
        else 100 * (avg_gain / (avg_gain + avg_loss))
    end as rsi_14,
    market_source,
    loaded_at
from averages
