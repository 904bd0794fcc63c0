-- One daily bar per symbol and day from every vendor, keeping the most trusted source:
-- streamed bars (STREAMING_API) first, then the EGX broker export, Investing.com, Yahoo, MarketWatch, plain files;
-- among equals the most recently loaded row. loaded_at is the latest load of any source row of the
-- key, so a later load of a less trusted source is seen as a change too.
with source as (
    select * from {{ source('OPERATIONAL', 'TBL_STOCK_PRICE') }}
    where {{ incremental_input('TRADE_DATE') }}
),

ranked as (
    select
        SYMBOL as symbol,
        TRADE_DATE as trade_date,
        DATA_SOURCE as data_source,
        OPEN_PRICE as open_price,
        HIGH_PRICE as high_price,
        LOW_PRICE as low_price,
        CLOSE_PRICE as close_price,
        VOLUME as volume,
        TURNOVER as turnover_egp,
        max(LOADED_AT) over (partition by SYMBOL, TRADE_DATE) as loaded_at,
        row_number() over (
            partition by SYMBOL, TRADE_DATE
            order by
                case DATA_SOURCE
                    when 'STREAMING_API' then 0
                    when 'egx_ar_export' then 1
                    when 'investing' then 2
                    when 'yahoo' then 3
                    when 'marketwatch' then 4
                    else 5
                end,
                LOADED_AT desc
        ) as source_rank
    from source
)

select symbol, trade_date, data_source, open_price, high_price, low_price, close_price, volume, turnover_egp, loaded_at
from ranked
where source_rank = 1
