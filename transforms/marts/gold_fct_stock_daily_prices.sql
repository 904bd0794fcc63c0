-- One row per symbol and trading day with change, range, moving averages, RSI, Bollinger Bands
-- and signals. Windows count trading days (rows), not calendar days.
with prices as (
    select
        p.*,
        lag(close_price) over (partition by symbol order by trade_date) as prev_close
    from {{ ref('stg_stock_prices_unified') }} p
    where {{ incremental_input('trade_date') }}
),

windowed as (
    select
        prices.*,
        -- RSI(14) with simple averages of the last 14 gains and losses (Cutler's variant)
        avg(greatest(close_price - prev_close, 0)) over (partition by symbol order by trade_date rows between 13 preceding and current row) as avg_gain_14,
        avg(greatest(prev_close - close_price, 0)) over (partition by symbol order by trade_date rows between 13 preceding and current row) as avg_loss_14,
        count(prev_close) over (partition by symbol order by trade_date rows between 13 preceding and current row) as changes_14,
        -- Bollinger Bands(20, 2 sigma), population standard deviation
        avg(close_price) over (partition by symbol order by trade_date rows between 19 preceding and current row) as bb_middle,
        stddev_pop(close_price) over (partition by symbol order by trade_date rows between 19 preceding and current row) as bb_sigma,
        count(*) over (partition by symbol order by trade_date rows between 19 preceding and current row) as closes_20,
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
    -- indicators (null until the window is full)
    case
        when changes_14 < 14 then null
        when avg_loss_14 = 0 then 100
        else 100 - 100 / (1 + avg_gain_14 / avg_loss_14)
    end as rsi_14,
    case when closes_20 = 20 then bb_middle end as bb_middle_20,
    case when closes_20 = 20 then bb_middle + 2 * bb_sigma end as bb_upper_20,
    case when closes_20 = 20 then bb_middle - 2 * bb_sigma end as bb_lower_20,
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
