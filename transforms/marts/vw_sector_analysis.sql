-- Per sector on the latest trading day: companies traded, average change %, total volume.
with latest as (
    select max(trade_date) as trade_date from {{ ref('gold_fct_stock_daily_prices') }}
)

select
    c.sector,
    count(*) as traded_companies,
    avg(f.price_change_pct) as avg_change_pct,
    sum(f.volume) as total_volume
from {{ ref('gold_fct_stock_daily_prices') }} f
join latest l on l.trade_date = f.trade_date
join {{ ref('gold_dim_company') }} c on c.symbol = f.symbol
group by c.sector
