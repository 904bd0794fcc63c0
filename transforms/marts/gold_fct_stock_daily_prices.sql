-- One row per symbol and trading day with change, range and moving-average signals.
-- Moving averages count trading days (rows), not calendar days.
with prices as (
    select * from {{ ref('stg_stock_prices_unified') }}
),

windowed as (
    select
        prices.*,
        lag(close_price) over (partition by symbol order by trade_date) as prev_close,
        avg(close_price) over (partition by symbol order by trade_date rows between 6 preceding and current row) as ma_7,
        avg(close_price) over (partition by symbol order by trade_date rows between 29 preceding and current row) as ma_30,
        avg(volume) over (partition by symbol order by trade_date rows between 6 preceding and current row) as volume_ma_7
    from prices
)

select
    symbol,
    trade_date,
    data_source,
    open_price,
    high_price,
    low_price,
    close_price,
    volume,
    -- change
    close_price - prev_close as price_change,
    case when prev_close > 0 then (close_price - prev_close) / prev_close * 100 end as price_change_pct,
    high_price - low_price as price_range,
    (high_price + low_price + close_price) / 3 as typical_price,
    -- averages
    ma_7,
    ma_30,
    volume_ma_7,
    -- signals
    case
        when close_price > ma_7 and ma_7 > ma_30 then 'BULLISH'
        when close_price < ma_7 and ma_7 < ma_30 then 'BEARISH'
        else 'NEUTRAL'
    end as trend_signal,
    case
        when volume_ma_7 is null or volume is null then 'NORMAL'
        when volume > 1.5 * volume_ma_7 then 'HIGH'
        when volume < 0.5 * volume_ma_7 then 'LOW'
        else 'NORMAL'
    end as volume_signal
from windowed
