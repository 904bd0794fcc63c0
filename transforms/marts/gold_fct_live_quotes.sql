-- One row per symbol and session: where the symbol stands after its latest streamed bar. Last
-- price and change against the previous close, session VWAP and RSI(14), volume against the same
-- point of earlier sessions, and distance from the 52-week high and low. A live model: the market
-- session refreshes it after each poll, rebuilding only the sessions whose bars changed.

with bars as (
    select *
    from {{ ref('gold_fct_live_bars') }}
    where {{ incremental_input('trade_date') }}
),

sessions as (
    select
        symbol,
        trade_date,
        count(*) as bars,
        min_by(open_price, bar_ts) as day_open,
        max(high_price) as day_high,
        min(low_price) as day_low,
        max(bar_ts) as last_bar_ts,
        max(loaded_at) as loaded_at
    from bars
    group by symbol, trade_date
),

last_bars as (
    select
        b.symbol,
        b.trade_date,
        b.bar_interval,
        b.close_price as last_price,
        b.minutes_into_session,
        b.session_volume,
        b.session_vwap,
        b.rsi_14,
        b.market_source
    from bars b
    join sessions s on s.symbol = b.symbol and s.trade_date = b.trade_date and s.last_bar_ts = b.bar_ts
),

-- Volume against the same time of day: each of the symbol's last 20 earlier sessions (within 40
-- days) counts the volume of its bars that had closed by the same minute into the session (0 when
-- none had), and those are averaged.
history as (
    select symbol, trade_date, minutes_into_session, session_volume
    from {{ ref('gold_fct_live_bars') }}
    where trade_date >= (select min(trade_date) from sessions) - 40
      and trade_date < (select max(trade_date) from sessions)
),

earlier_sessions as (
    select
        symbol,
        trade_date,
        earlier_date,
        row_number() over (partition by symbol, trade_date order by earlier_date desc) as age
    from (
        select distinct l.symbol, l.trade_date, h.trade_date as earlier_date
        from last_bars l
        join history h on h.symbol = l.symbol and h.trade_date < l.trade_date and h.trade_date >= l.trade_date - 40
    ) e
),

volume_then as (
    select e.symbol, e.trade_date, e.earlier_date, coalesce(max(h.session_volume), 0) as volume_by_then
    from earlier_sessions e
    join last_bars l on l.symbol = e.symbol and l.trade_date = e.trade_date
    left join history h
        on h.symbol = e.symbol and h.trade_date = e.earlier_date and h.minutes_into_session <= l.minutes_into_session
    where e.age <= 20
    group by e.symbol, e.trade_date, e.earlier_date
),

volume_profile as (
    select symbol, trade_date, avg(volume_by_then) as avg_volume, count(*) as sessions_averaged
    from volume_then
    group by symbol, trade_date
),

-- The year of daily bars before the session: the previous close, the 52-week range and the
-- average daily volume.
daily as (
    select
        s.symbol,
        s.trade_date,
        d.trade_date as daily_date,
        d.high_price,
        d.low_price,
        d.close_price,
        d.volume,
        row_number() over (partition by s.symbol, s.trade_date order by d.trade_date desc) as age
    from sessions s
    join {{ ref('gold_fct_stock_daily_prices') }} d
        on d.symbol = s.symbol and d.trade_date < s.trade_date and d.trade_date >= s.trade_date - 364
),

year_before as (
    select
        symbol,
        trade_date,
        max(case when age = 1 then close_price end) as prev_close,
        max(case when age = 1 then daily_date end) as prev_close_date,
        max(high_price) as high_before,
        min(low_price) as low_before,
        avg(case when age <= 20 then volume end) as avg_daily_volume_20d
    from daily
    group by symbol, trade_date
),

quotes as (
    select
        s.symbol,
        s.trade_date,
        l.bar_interval,
        s.last_bar_ts,
        l.minutes_into_session,
        s.bars,
        l.last_price,
        y.prev_close,
        y.prev_close_date,
        s.day_open,
        s.day_high,
        s.day_low,
        l.session_volume,
        l.session_vwap,
        l.rsi_14,
        v.avg_volume,
        coalesce(v.sessions_averaged, 0) as sessions_averaged,
        y.avg_daily_volume_20d,
        -- the session so far belongs to the 52 weeks too
        case when y.high_before > s.day_high then y.high_before else s.day_high end as high_52w,
        case when y.low_before < s.day_low then y.low_before else s.day_low end as low_52w,
        l.market_source,
        s.loaded_at
    from sessions s
    join last_bars l on l.symbol = s.symbol and l.trade_date = s.trade_date
    left join year_before y on y.symbol = s.symbol and y.trade_date = s.trade_date
    left join volume_profile v on v.symbol = s.symbol and v.trade_date = s.trade_date
)

select
    symbol,
    trade_date,
    bar_interval,
    last_bar_ts,
    minutes_into_session,
    bars,
    last_price,
    prev_close,
    prev_close_date,
    last_price - prev_close as price_change,
    case when prev_close > 0 then (last_price - prev_close) / prev_close * 100 end as price_change_pct,
    day_open,
    day_high,
    day_low,
    session_volume as volume,
    session_vwap as vwap,
    rsi_14,
    avg_volume as avg_volume_same_time_20d,
    case when avg_volume > 0 then session_volume / avg_volume end as volume_vs_avg_same_time,
    sessions_averaged,
    avg_daily_volume_20d,
    high_52w,
    low_52w,
    case when high_52w > 0 then (last_price - high_52w) / high_52w * 100 end as pct_from_high_52w,
    case when low_52w > 0 then (last_price - low_52w) / low_52w * 100 end as pct_from_low_52w,
    market_source,
    loaded_at
from quotes
