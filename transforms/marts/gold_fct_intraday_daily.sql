-- Per symbol and trading day, from its intraday bars: the session's OHLC, volume and VWAP, and
-- when (UTC and Cairo time) the day's high and low were first reached.
with bars as (
    select
        b.*,
        row_number() over (partition by symbol, trade_date order by bar_start) as n_first,
        row_number() over (partition by symbol, trade_date order by bar_start desc) as n_last,
        row_number() over (partition by symbol, trade_date order by high_price desc, bar_start) as n_high,
        row_number() over (partition by symbol, trade_date order by low_price, bar_start) as n_low
    from {{ ref('stg_intraday_bars') }} b
    where {{ incremental_input('trade_date') }}
)

select
    symbol,
    trade_date,
    max(bar_interval) as bar_interval,
    count(*) as bar_count,
    min(bar_start) as first_bar_at,
    max(bar_start) as last_bar_at,
    max(case when n_first = 1 then open_price end) as open_price,
    max(high_price) as high_price,
    min(low_price) as low_price,
    max(case when n_last = 1 then close_price end) as close_price,
    sum(volume) as volume,
    sum((high_price + low_price + close_price) / 3 * volume) / nullif(sum(volume), 0) as vwap,
    max(case when n_high = 1 then bar_start end) as high_at,
    max(case when n_high = 1 then bar_start_local end) as high_at_local,
    max(case when n_low = 1 then bar_start end) as low_at,
    max(case when n_low = 1 then bar_start_local end) as low_at_local,
    max(loaded_at) as loaded_at
from bars
group by symbol, trade_date
