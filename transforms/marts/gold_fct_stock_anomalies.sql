-- One row per symbol and trading day, flagging unusual days: a daily return far from the previous
-- 60 days' returns (|z| >= 3), and volume far above the previous 20 days' median (3 times or more).
-- Windows count trading days (rows) before the day itself, so a day is never compared with itself.

-- An incremental build rebuilds the days from the first changed one on, reading before them each
-- symbol's last 61 bars (60 returns).
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
    where age <= 61
    group by symbol
),

bars as (
    select
        p.symbol,
        p.trade_date,
        p.close_price,
        p.volume,
        p.loaded_at,
        p.close_price / lag(p.close_price) over (partition by p.symbol order by p.trade_date) - 1 as daily_return
    from {{ ref('stg_stock_prices_unified') }} p
    left join earlier e on e.symbol = p.symbol
    where {{ incremental_input('p.trade_date') }} or p.trade_date >= e.read_from
),

stats as (
    select
        bars.*,
        count(daily_return) over (partition by symbol order by trade_date rows between 60 preceding and 1 preceding) as return_days,
        avg(daily_return) over (partition by symbol order by trade_date rows between 60 preceding and 1 preceding) as return_mean_60d,
        stddev_samp(daily_return) over (partition by symbol order by trade_date rows between 60 preceding and 1 preceding) as return_stddev_60d,
        count(volume) over (partition by symbol order by trade_date rows between 20 preceding and 1 preceding) as volume_days,
        median(volume) over (partition by symbol order by trade_date rows between 20 preceding and 1 preceding) as volume_median_20d
    from bars
),

scored as (
    select
        symbol,
        trade_date,
        close_price,
        daily_return,
        case when return_days = 60 then return_mean_60d end as return_mean_60d,
        case when return_days = 60 then return_stddev_60d end as return_stddev_60d,
        case
            when return_days = 60 and return_stddev_60d > 0 and daily_return is not null
                then (daily_return - return_mean_60d) / return_stddev_60d
        end as return_zscore,
        volume,
        case when volume_days = 20 then volume_median_20d end as volume_median_20d,
        case
            when volume_days = 20 and volume_median_20d > 0 and volume is not null
                then volume / volume_median_20d
        end as volume_ratio,
        loaded_at
    from stats
)

select
    symbol,
    trade_date,
    close_price,
    daily_return,
    return_mean_60d,
    return_stddev_60d,
    return_zscore,
    coalesce(abs(return_zscore) >= 3, false) as is_return_anomaly,
    volume,
    volume_median_20d,
    volume_ratio,
    coalesce(volume_ratio >= 3, false) as is_volume_anomaly,
    coalesce(abs(return_zscore) >= 3, false) or coalesce(volume_ratio >= 3, false) as is_anomaly,
    loaded_at
from scored
