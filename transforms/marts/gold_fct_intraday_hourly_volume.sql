-- Per symbol, trading day and hour of Cairo's clock, from the intraday bars: the volume traded in
-- bars starting in that hour and its share of the day's volume.
with hours as (
    select
        symbol,
        trade_date,
        date_trunc('hour', bar_start_local) as hour_start_local,
        min(date_trunc('hour', bar_start)) as hour_start,
        count(*) as bar_count,
        sum(volume) as volume,
        max(loaded_at) as loaded_at
    from {{ ref('stg_intraday_bars') }}
    where {{ incremental_input('trade_date') }}
    group by symbol, trade_date, date_trunc('hour', bar_start_local)
)

select
    symbol,
    trade_date,
    hour_start_local,
    extract(hour from hour_start_local) as hour_local,
    hour_start,
    bar_count,
    volume,
    volume * 100.0 / nullif(sum(volume) over (partition by symbol, trade_date), 0) as volume_share_pct,
    sum(volume) over (partition by symbol, trade_date order by hour_start_local rows between unbounded preceding and current row)
        * 100.0 / nullif(sum(volume) over (partition by symbol, trade_date), 0) as cumulative_volume_share_pct,
    loaded_at
from hours
