-- Intraday bars from files, one per symbol and bar start, in the finest interval the symbol has
-- that day: a day loaded both as 1-minute and 5-minute bars is the same trading twice, so only
-- the 1-minute bars are kept.
with bars as (
    select
        SYMBOL as symbol,
        TRADE_DATE as trade_date,
        BAR_INTERVAL as bar_interval,
        cast(substr(BAR_INTERVAL, 1, length(BAR_INTERVAL) - 1) as integer)
            * case right(BAR_INTERVAL, 1) when 's' then 1 when 'm' then 60 when 'h' then 3600 end
            as interval_seconds,
        BAR_START as bar_start,
        BAR_START_LOCAL as bar_start_local,
        DATA_SOURCE as data_source,
        OPEN_PRICE as open_price,
        HIGH_PRICE as high_price,
        LOW_PRICE as low_price,
        CLOSE_PRICE as close_price,
        VOLUME as volume,
        LOADED_AT as loaded_at
    from {{ source('OPERATIONAL', 'TBL_INTRADAY_PRICE') }}
),

finest as (
    select
        bars.*,
        min(interval_seconds) over (partition by symbol, trade_date) as finest_seconds
    from bars
)

select
    symbol,
    trade_date,
    bar_interval,
    interval_seconds,
    bar_start,
    bar_start_local,
    data_source,
    open_price,
    high_price,
    low_price,
    close_price,
    volume,
    loaded_at
from finest
where interval_seconds = finest_seconds
