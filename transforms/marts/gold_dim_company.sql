-- One row per company with its sector and its trading history span.
with companies as (
    select * from {{ ref('stg_companies') }}
),

sectors as (
    select * from {{ ref('dim_sector') }}
),

trading as (
    select symbol, min(trade_date) as first_trade_date, max(trade_date) as last_trade_date, count(*) as trading_days
    from {{ ref('stg_stock_prices_unified') }}
    group by symbol
)

select
    c.symbol,
    c.company_name,
    s.sector_id,
    c.sector,
    c.industry,
    t.first_trade_date,
    t.last_trade_date,
    coalesce(t.trading_days, 0) as trading_days
from companies c
left join sectors s on s.sector = c.sector
left join trading t on t.symbol = c.symbol
