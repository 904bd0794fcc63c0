-- One row per company: latest close, its change over the history loaded, and trading activity.
-- One pass over the facts: the first and last closes are taken with min_by/max_by on the date.
with summary as (
    select
        symbol,
        min(trade_date) as first_date,
        max(trade_date) as last_date,
        count(*) as trading_days,
        min_by(close_price, trade_date) as first_close,
        max_by(close_price, trade_date) as last_close,
        avg(volume) as avg_volume
    from {{ ref('gold_fct_stock_daily_prices') }}
    group by symbol
)

select
    s.symbol,
    c.company_name,
    c.sector,
    s.first_date,
    s.last_date,
    s.trading_days,
    s.first_close,
    s.last_close,
    case when s.first_close > 0 then (s.last_close - s.first_close) / s.first_close * 100 end as total_return_pct,
    s.avg_volume
from summary s
left join {{ ref('gold_dim_company') }} c on c.symbol = s.symbol
