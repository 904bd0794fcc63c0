-- The ten most traded symbols (by volume) on the latest trading day.
with latest as (
    select max(trade_date) as trade_date from {{ ref('gold_fct_stock_daily_prices') }}
),

ranked as (
    select
        f.symbol,
        f.trade_date,
        f.volume,
        f.volume_signal,
        row_number() over (order by f.volume desc, f.symbol) as volume_rank
    from {{ ref('gold_fct_stock_daily_prices') }} f
    join latest l on l.trade_date = f.trade_date
    where f.volume is not null
)

select * from ranked where volume_rank <= 10
