-- One official level per index and trading day from the index level files (TBL_INDEX), keeping
-- the most trusted vendor: the exchange's own page (egx), then the EGX broker export, Investing.com,
-- Yahoo, MarketWatch, TradingView, plain files; among equals the most recently loaded row.
with ranked as (
    select
        upper(INDEX_CODE) as index_code,
        INDEX_NAME as index_name,
        TRADE_DATE as trade_date,
        DATA_SOURCE as data_source,
        OPEN_PRICE as open_level,
        HIGH_PRICE as high_level,
        LOW_PRICE as low_level,
        CLOSE_PRICE as close_level,
        VOLUME as volume,
        count(*) over (partition by upper(INDEX_CODE), TRADE_DATE) as source_count,
        max(LOADED_AT) over (partition by upper(INDEX_CODE), TRADE_DATE) as loaded_at,
        row_number() over (
            partition by upper(INDEX_CODE), TRADE_DATE
            order by
                case DATA_SOURCE
                    when 'egx' then 0
                    when 'egx_ar_export' then 1
                    when 'investing' then 2
                    when 'yahoo' then 3
                    when 'marketwatch' then 4
                    when 'tradingview' then 5
                    else 6
                end,
                LOADED_AT desc
        ) as source_rank
    from {{ source('OPERATIONAL', 'TBL_INDEX') }}
)

select
    index_code,
    index_name,
    trade_date,
    data_source,
    open_level,
    high_level,
    low_level,
    close_level,
    volume,
    source_count,
    loaded_at
from ranked
where source_rank = 1
