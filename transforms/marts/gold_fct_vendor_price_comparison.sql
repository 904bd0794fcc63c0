-- One row per symbol and day that two or more vendors report: each vendor's close and how far
-- apart they are. Read from every vendor's row in OPERATIONAL.TBL_STOCK_PRICE (the unified bars
-- keep only the most trusted one).
with source as (
    select
        SYMBOL as symbol,
        TRADE_DATE as trade_date,
        DATA_SOURCE as data_source,
        CLOSE_PRICE as close_price,
        LOADED_AT as loaded_at
    from {{ source('OPERATIONAL', 'TBL_STOCK_PRICE') }}
    where {{ incremental_input('TRADE_DATE') }} and CLOSE_PRICE > 0
),

-- the symbol-days with two or more vendors: a light count first (most days have one vendor),
-- so the aggregates below run on those days only
compared as (
    select symbol, trade_date
    from source
    group by symbol, trade_date
    having count(*) >= 2
)

select
    s.symbol,
    s.trade_date,
    count(*) as source_count,
    max(case when data_source = 'STREAMING_API' then close_price end) as close_streaming_api,
    max(case when data_source = 'egx_ar_export' then close_price end) as close_egx_ar_export,
    max(case when data_source = 'investing' then close_price end) as close_investing,
    max(case when data_source = 'yahoo' then close_price end) as close_yahoo,
    max(case when data_source = 'marketwatch' then close_price end) as close_marketwatch,
    max(case when data_source = 'ohlcv' then close_price end) as close_ohlcv,
    min(close_price) as min_close,
    max(close_price) as max_close,
    min_by(data_source, close_price) as min_close_source,
    max_by(data_source, close_price) as max_close_source,
    -- the largest difference between two vendors' closes, relative to the lower one
    (max(close_price) - min(close_price)) / min(close_price) as max_relative_diff,
    max(loaded_at) as loaded_at
from source s
join compared c on c.symbol = s.symbol and c.trade_date = s.trade_date
group by s.symbol, s.trade_date
