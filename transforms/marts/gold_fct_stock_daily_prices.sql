-- One row per symbol and trading day with change, range, moving averages, RSI, Bollinger Bands,
-- MACD and signals, defined as TA-Lib computes them. Windows count trading days (rows), not
-- calendar days, and an indicator is null until it has its first value.

-- An incremental build rebuilds the days from the first changed one on. It reads them and, before
-- them, the last 500 bars of each symbol: enough for MA200, and for the recursive averages' restart
-- to weigh less than 1e-13 (see below). A symbol whose close has not moved in its last 100 bars
-- (suspended) reads its whole history instead: RSI keeps the value it had before, which the
-- restart would not know. A full build reads every bar.
with recent as (
    select
        symbol,
        trade_date,
        close_price,
        row_number() over (partition by symbol order by trade_date desc) as age
    from {{ ref('stg_stock_prices_unified') }}
    where not ({{ incremental_input('trade_date') }})
),

earlier as (
    select
        symbol,
        min(trade_date) as read_from,
        min(case when age <= 100 then close_price end) = max(case when age <= 100 then close_price end) as suspended
    from recent
    where age <= 500
    group by symbol
),

-- The windows over each symbol's days. They carry only the columns they need (sorting narrower
-- rows is cheaper); the bar's other columns join back at the end.
prices as (
    select
        p.symbol,
        p.trade_date,
        p.close_price,
        p.volume,
        lag(p.close_price) over (partition by p.symbol order by p.trade_date) as prev_close,
        row_number() over (partition by p.symbol order by p.trade_date) - 1 as rn,
        avg(p.close_price) over (partition by p.symbol order by p.trade_date rows between 6 preceding and current row) as avg_7,
        avg(p.close_price) over (partition by p.symbol order by p.trade_date rows between 29 preceding and current row) as avg_30,
        avg(p.close_price) over (partition by p.symbol order by p.trade_date rows between 49 preceding and current row) as avg_50,
        avg(p.close_price) over (partition by p.symbol order by p.trade_date rows between 199 preceding and current row) as avg_200,
        -- Bollinger Bands(20, 2 sigma): population standard deviation, as TA-Lib's BBANDS
        avg(p.close_price) over (partition by p.symbol order by p.trade_date rows between 19 preceding and current row) as avg_20,
        stddev_pop(p.close_price) over (partition by p.symbol order by p.trade_date rows between 19 preceding and current row) as sigma_20,
        avg(p.volume) over (partition by p.symbol order by p.trade_date rows between 6 preceding and current row) as avg_volume_7
    from {{ ref('stg_stock_prices_unified') }} p
    left join earlier e on e.symbol = p.symbol
    where {{ incremental_input('trade_date') }} or p.trade_date >= e.read_from or e.suspended
),

-- The recursive averages, y(t) = alpha * x(t) + beta * y(t - 1) from a seed on day s (days count
-- from 0 per symbol), are sums: y(t) = alpha * sum over k <= t of beta^(t - k) * z(k), where z is
-- the input after day s, and the seed's days carry weights that make y(s) their simple mean:
--   RSI(14), Wilder's smoothing (alpha = 1/14): seeded on day 14 by the mean gain (loss) of days 1-14;
--   MACD(12, 26, 9) as TA-Lib: both averages start on day 25, the 26-day one (alpha = 2/27) from
--   the mean close of days 0-25, the 12-day one (alpha = 2/13) from the mean of days 14-25;
--   the signal line (alpha = 0.2) starts on day 33 from the mean MACD of days 25-33.
-- The sums run in blocks of 1000 days (block blk, place pos in it) with weights beta^-pos: at most
-- 1.25^999, about 1e97, so no overflow, and no cancellation (the inputs are not negative). The
-- previous block adds its total times beta^1000; older blocks weigh less than 1e-32 and are left out.
steps as (
    select
        prices.*,
        floor(rn / 1000) as blk,
        rn - 1000 * floor(rn / 1000) as pos,
        -- where MA50 is against MA200 (1 above, -1 below, 0 level within rounding), for the crosses
        case
            when rn < 199 then null
            when avg_50 > avg_200 * (1 + 1e-9) then 1
            when avg_50 < avg_200 * (1 - 1e-9) then -1
            else 0
        end as ma_side,
        case when rn between 1 and 14 then power(cast(14 as double) / 13, 14 - rn) else 1 end
            * greatest(close_price - prev_close, 0) as z_gain,
        case when rn between 1 and 14 then power(cast(14 as double) / 13, 14 - rn) else 1 end
            * greatest(prev_close - close_price, 0) as z_loss,
        case
            when rn < 14 then 0
            when rn <= 25 then cast(13 as double) / 24 * power(cast(13 as double) / 11, 25 - rn)
            else 1
        end * close_price as z_fast,
        case when rn <= 25 then cast(27 as double) / 52 * power(cast(27 as double) / 25, 25 - rn) else 1 end
            * close_price as z_slow
    from prices
),

sums as (
    select
        steps.*,
        lag(ma_side) over (partition by symbol, blk order by rn) as prev_side_in_block,
        sum(z_gain * power(cast(14 as double) / 13, pos))
            over (partition by symbol, blk order by rn rows between unbounded preceding and current row) as q_gain,
        sum(z_loss * power(cast(14 as double) / 13, pos))
            over (partition by symbol, blk order by rn rows between unbounded preceding and current row) as q_loss,
        sum(z_fast * power(cast(13 as double) / 11, pos))
            over (partition by symbol, blk order by rn rows between unbounded preceding and current row) as q_fast,
        sum(z_slow * power(cast(27 as double) / 25, pos))
            over (partition by symbol, blk order by rn rows between unbounded preceding and current row) as q_slow,
        -- the MACD inputs summed with the signal line's beta = 0.8 (see macd below)
        sum(z_fast * power(1.25, pos))
            over (partition by symbol, blk order by rn rows between unbounded preceding and current row) as q_fast_8,
        sum(z_slow * power(1.25, pos))
            over (partition by symbol, blk order by rn rows between unbounded preceding and current row) as q_slow_8
    from steps
),

-- Per block, what the next block carries over: its totals (the sums only grow, so their largest
-- values), and its last day's ma_side.
block_totals as (
    select
        symbol,
        blk,
        max(case when pos = 999 then ma_side end) as last_ma_side,
        max(q_gain) as t_gain,
        max(q_loss) as t_loss,
        max(q_fast) as t_fast,
        max(q_slow) as t_slow,
        max(q_fast_8) as t_fast_8,
        max(q_slow_8) as t_slow_8
    from sums
    group by symbol, blk
),

-- The signal line's start, its seed less 0.2 * macd_decayed(33) (see macd below), from days 25-33.
-- They are in block 0, which carries nothing in: there the averages are the sums alone, by the
-- expressions of averages and macd.
seed_days as (
    select
        symbol,
        rn,
        power(cast(11 as double) / 13, pos) * q_fast * 2 / 13 as ema_fast,
        power(cast(25 as double) / 27, pos) * q_slow * 2 / 27 as ema_slow,
        power(0.8, pos) * q_fast_8 as fast_8,
        power(0.8, pos) * q_slow_8 as slow_8
    from sums
    where rn between 25 and 33
),

signal_seeds as (
    select
        symbol,
        avg(ema_fast - ema_slow) - 0.2 * max(
            case when rn = 33 then
                (cast(2 as double) / 13 * 0.8 * fast_8 - cast(11 as double) / 13 * ema_fast) / (0.8 - cast(11 as double) / 13)
                - (cast(2 as double) / 27 * 0.8 * slow_8 - cast(25 as double) / 27 * ema_slow) / (0.8 - cast(25 as double) / 27)
            end
        ) as signal_start
    from seed_days
    group by symbol
),

-- Each block with what it takes from before it (the previous block's carry-over, none into block
-- 0, and the signal line's seed): a few rows per symbol, joined to the days in one go.
carried as (
    select
        b.symbol,
        b.blk,
        lag(b.last_ma_side) over (partition by b.symbol order by b.blk) as last_ma_side,
        lag(b.t_gain) over (partition by b.symbol order by b.blk) as t_gain,
        lag(b.t_loss) over (partition by b.symbol order by b.blk) as t_loss,
        lag(b.t_fast) over (partition by b.symbol order by b.blk) as t_fast,
        lag(b.t_slow) over (partition by b.symbol order by b.blk) as t_slow,
        lag(b.t_fast_8) over (partition by b.symbol order by b.blk) as t_fast_8,
        lag(b.t_slow_8) over (partition by b.symbol order by b.blk) as t_slow_8,
        s.signal_start
    from block_totals b
    left join signal_seeds s on s.symbol = b.symbol
),

averages as (
    select
        sums.*,
        case when pos = 0 then t.last_ma_side else prev_side_in_block end as prev_ma_side,
        t.signal_start,
        power(cast(13 as double) / 14, pos)
            * (q_gain + coalesce(power(cast(13 as double) / 14, 1000) * t.t_gain, 0)) / 14 as avg_gain,
        power(cast(13 as double) / 14, pos)
            * (q_loss + coalesce(power(cast(13 as double) / 14, 1000) * t.t_loss, 0)) / 14 as avg_loss,
        power(cast(11 as double) / 13, pos)
            * (q_fast + coalesce(power(cast(11 as double) / 13, 1000) * t.t_fast, 0)) * 2 / 13 as ema_fast,
        power(cast(25 as double) / 27, pos)
            * (q_slow + coalesce(power(cast(25 as double) / 27, 1000) * t.t_slow, 0)) * 2 / 27 as ema_slow,
        power(0.8, pos) * (q_fast_8 + coalesce(power(0.8, 1000) * t.t_fast_8, 0)) as fast_8,
        power(0.8, pos) * (q_slow_8 + coalesce(power(0.8, 1000) * t.t_slow_8, 0)) as slow_8
    from sums
    join carried t on t.symbol = sums.symbol and t.blk = sums.blk
),

-- The signal line averages the MACD line, itself a difference of two averages of the closes. An
-- average of an average is a difference of two averages of the input: for y as above,
--   sum over j <= t of 0.8^(t - j) * y(j) = (alpha * 0.8 * sum of 0.8^(t - k) * z(k) - beta * y(t)) / (0.8 - beta),
-- which gives macd_decayed(t) = sum over j <= t of 0.8^(t - j) * macd_line(j), and on day t >= 33
--   signal(t) = 0.8^(t - 33) * (its seed - 0.2 * macd_decayed(33)) + 0.2 * macd_decayed(t).
macd as (
    select
        averages.*,
        ema_fast - ema_slow as macd_line,
        (cast(2 as double) / 13 * 0.8 * fast_8 - cast(11 as double) / 13 * ema_fast) / (0.8 - cast(11 as double) / 13)
            - (cast(2 as double) / 27 * 0.8 * slow_8 - cast(25 as double) / 27 * ema_slow) / (0.8 - cast(25 as double) / 27)
            as macd_decayed
    from averages
),

indicators as (
    select
        macd.*,
        case
            when rn < 14 then null
            -- no move at all within the averages' memory: 0, as TA-Lib gives
            when avg_gain + avg_loss < 1e-14 then 0
            -- gain / (gain + loss) first, as TA-Lib: 100 exactly when nothing was lost
            else 100 * (avg_gain / (avg_gain + avg_loss))
        end as rsi_14,
        case when rn >= 33 then macd_line end as macd_12_26,
        case when rn >= 33 then power(0.8, least(rn - 33, 2000)) * signal_start + 0.2 * macd_decayed end as macd_signal_9
    from macd
)

select
    p.symbol,
    p.trade_date,
    b.data_source,
    b.open_price,
    b.high_price,
    b.low_price,
    p.close_price,
    p.volume,
    -- change
    p.close_price - prev_close as price_change,
    case when prev_close > 0 then (p.close_price - prev_close) / prev_close * 100 end as price_change_pct,
    b.high_price - b.low_price as price_range,
    (b.high_price + b.low_price + p.close_price) / 3 as typical_price,
    -- simple moving averages (null until the window is full)
    case when p.rn >= 6 then avg_7 end as ma_7,
    case when p.rn >= 29 then avg_30 end as ma_30,
    case when p.rn >= 49 then avg_50 end as ma_50,
    case when p.rn >= 199 then avg_200 end as ma_200,
    case when p.rn >= 6 then avg_volume_7 end as volume_ma_7,
    -- indicators
    rsi_14,
    case when p.rn >= 19 then avg_20 end as bb_middle_20,
    case when p.rn >= 19 then avg_20 + 2 * sigma_20 end as bb_upper_20,
    case when p.rn >= 19 then avg_20 - 2 * sigma_20 end as bb_lower_20,
    macd_12_26,
    macd_signal_9,
    macd_12_26 - macd_signal_9 as macd_histogram,
    -- signals
    case
        when p.rn < 29 then 'NEUTRAL'
        when p.close_price > avg_7 and avg_7 > avg_30 then 'BULLISH'
        when p.close_price < avg_7 and avg_7 < avg_30 then 'BEARISH'
        else 'NEUTRAL'
    end as trend_signal,
    case
        when p.rn < 6 or avg_volume_7 is null or p.volume is null then 'NORMAL'
        when p.volume > 1.5 * avg_volume_7 then 'HIGH'
        when p.volume < 0.5 * avg_volume_7 then 'LOW'
        else 'NORMAL'
    end as volume_signal,
    case
        when p.rn < 199 then null
        when p.rn >= 200 and ma_side = 1 and prev_ma_side <= 0 then 'GOLDEN_CROSS'
        when p.rn >= 200 and ma_side = -1 and prev_ma_side >= 0 then 'DEATH_CROSS'
        else 'NONE'
    end as ma_cross_signal,
    b.loaded_at
from indicators p
-- the bar's other columns
join {{ ref('stg_stock_prices_unified') }} b on b.symbol = p.symbol and b.trade_date = p.trade_date
