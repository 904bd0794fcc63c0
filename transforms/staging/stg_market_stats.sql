-- Market-wide figures per day: one row per trading day with the number of traded symbols, total
-- volume and turnover, and advancing/declining counts, from the unified daily bars.
with bars as (
    select
        symbol,
        trade_date,
        close_price,
        volume,
        turnover_egp,
        loaded_at,
        lag(close_price) over (partition by symbol order by trade_date) as prev_close
    from {{ ref('stg_stock_prices_unified') }}
    where {{ incremental_input('trade_date') }}
)

select
    trade_date,
    count(*) as traded_symbols,
    sum(volume) as total_volume,
    sum(turnover_egp) as total_turnover_egp,
    sum(case when close_price > prev_close then 1 else 0 end) as advancers,
    sum(case when close_price < prev_close then 1 else 0 end) as decliners,
    max(loaded_at) as loaded_at
from bars
group by trade_date
