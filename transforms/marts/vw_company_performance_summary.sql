-- One row per company: latest close, its change over the history loaded, and trading activity.
with facts as (
    select * from {{ ref('gold_fct_stock_daily_prices') }}
),

bounds as (
    select symbol, min(trade_date) as first_date, max(trade_date) as last_date, count(*) as trading_days, avg(volume) as avg_volume
    from facts
    group by symbol
)

select
    b.symbol,
    c.company_name,
    c.sector,
    b.first_date,
    b.last_date,
    b.trading_days,
    first_bar.close_price as first_close,
    last_bar.close_price as last_close,
    case when first_bar.close_price > 0 then (last_bar.close_price - first_bar.close_price) / first_bar.close_price * 100 end as total_return_pct,
    b.avg_volume
from bounds b
join facts first_bar on first_bar.symbol = b.symbol and first_bar.trade_date = b.first_date
join facts last_bar on last_bar.symbol = b.symbol and last_bar.trade_date = b.last_date
left join {{ ref('gold_dim_company') }} c on c.symbol = b.symbol
