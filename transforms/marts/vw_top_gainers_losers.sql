-- The day's five biggest gainers and five biggest losers (by change %) on the latest trading day.
with latest as (
    select max(trade_date) as trade_date from {{ ref('gold_fct_stock_daily_prices') }}
),

day as (
    select f.symbol, f.trade_date, f.close_price, f.price_change_pct
    from {{ ref('gold_fct_stock_daily_prices') }} f
    join latest l on l.trade_date = f.trade_date
    where f.price_change_pct is not null
),

ranked as (
    select
        day.*,
        row_number() over (order by price_change_pct desc, symbol) as gain_rank,
        row_number() over (order by price_change_pct asc, symbol) as loss_rank
    from day
)

select 'GAINER' as mover_type, gain_rank as mover_rank, symbol, trade_date, close_price, price_change_pct
from ranked where gain_rank <= 5 and price_change_pct > 0
union all
select 'LOSER' as mover_type, loss_rank as mover_rank, symbol, trade_date, close_price, price_change_pct
from ranked where loss_rank <= 5 and price_change_pct < 0
