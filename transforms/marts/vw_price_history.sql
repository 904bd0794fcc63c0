-- Daily price history with company name and sector, for charts.
select
    f.symbol,
    c.company_name,
    c.sector,
    f.trade_date,
    f.open_price,
    f.high_price,
    f.low_price,
    f.close_price,
    f.volume,
    f.price_change_pct,
    f.ma_7,
    f.ma_30
from {{ ref('gold_fct_stock_daily_prices') }} f
left join {{ ref('gold_dim_company') }} c on c.symbol = f.symbol
