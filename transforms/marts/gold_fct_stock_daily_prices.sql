-- One row per symbol and trading day with change, range, moving averages, RSI, Bollinger Bands,
-- MACD and signals. Windows count trading days (rows), not calendar days.
with prices as (
    select
        p.*,
        lag(close_price) over (partition by symbol order by trade_date) as prev_close,
        row_number() over (partition by symbol order by trade_date) - 1 as rn
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
),

-- MACD works on narrow rows (symbol, day, close): its windows sort less data; joined back at the end.
numbered as (
    select symbol, trade_date, close_price, rn
    from prices
),

-- MACD(12, 26, 9). Each exponential average (weight beta = 1 - 2/(n+1) per day back) runs over
-- the last 200 trading days, where weights further back fall below 2e-7 of the total, so it needs
-- no recursion. With rows in blocks of 200 and pos the place in its block, q is the running sum of
-- close * beta^-pos within the block (exponents stay below 200, so no overflow and no
-- cancellation); the window's sum is the own block's part plus the previous block's tail:
--   beta^pos * q + beta^(pos + 200) * (q at the previous block's end - q 200 rows back),
-- divided by the sum of the weights, so that early values are averages too.
ema_sums as (
    select
        numbered.*,
        rn - 200 * floor(rn / 200) as pos,
        sum(close_price * power(13.0 / 11, rn - 200 * floor(rn / 200)))
            over (partition by symbol, floor(rn / 200) order by rn rows between unbounded preceding and current row) as q12,
        sum(close_price * power(27.0 / 25, rn - 200 * floor(rn / 200)))
            over (partition by symbol, floor(rn / 200) order by rn rows between unbounded preceding and current row) as q26
    from numbered
),

ema_parts as (
    select
        ema_sums.*,
        last_value(case when pos = 199 then q12 end ignore nulls)
            over (partition by symbol order by rn rows between unbounded preceding and 1 preceding) as end12,
        last_value(case when pos = 199 then q26 end ignore nulls)
            over (partition by symbol order by rn rows between unbounded preceding and 1 preceding) as end26,
        lag(q12, 200) over (partition by symbol order by rn) as back12,
        lag(q26, 200) over (partition by symbol order by rn) as back26
    from ema_sums
),

macd as (
    select
        ema_parts.*,
        rn - 25 as mn,
        case when rn >= 25 then
            (power(11.0 / 13, pos) * q12 + coalesce(power(11.0 / 13, pos + 200) * (end12 - back12), 0))
                * (2.0 / 13) / (1 - power(11.0 / 13, least(rn + 1, 200)))
            - (power(25.0 / 27, pos) * q26 + coalesce(power(25.0 / 27, pos + 200) * (end26 - back26), 0))
                * (2.0 / 27) / (1 - power(25.0 / 27, least(rn + 1, 200)))
        end as macd_line
    from ema_parts
),

-- The signal line: the same 200-day exponential average (n = 9) of the MACD line, from its first value.
signal_sums as (
    select
        macd.*,
        mn - 200 * floor(mn / 200) as spos,
        sum(macd_line * power(1.25, mn - 200 * floor(mn / 200)))
            over (partition by symbol, floor(mn / 200) order by rn rows between unbounded preceding and current row) as q9
    from macd
),

signal_parts as (
    select
        signal_sums.*,
        last_value(case when spos = 199 then q9 end ignore nulls)
            over (partition by symbol order by rn rows between unbounded preceding and 1 preceding) as end9,
        lag(q9, 200) over (partition by symbol order by rn) as back9
    from signal_sums
),

macd_signal as (
    select
        symbol,
        trade_date,
        macd_line,
        case when mn >= 8 then
            (power(0.8, spos) * q9 + coalesce(power(0.8, spos + 200) * (end9 - back9), 0))
                * 0.2 / (1 - power(0.8, least(mn + 1, 200)))
        end as macd_signal
    from signal_parts
),

indicators as (
    select windowed.*, m.macd_line, m.macd_signal
    from windowed
    join macd_signal m on m.symbol = windowed.symbol and m.trade_date = windowed.trade_date
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
    macd_line as macd_12_26,
    macd_signal as macd_signal_9,
    macd_line - macd_signal as macd_histogram,
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
    end as volume_signal,
    loaded_at
from indicators
