-- One row per financial statement item per company and period.
select
    upper(SYMBOL) as symbol,
    PERIOD_END as period_end,
    lower(STATEMENT) as statement,
    lower(ITEM) as item,
    VALUE as item_value,
    CURRENCY as currency
from {{ source('OPERATIONAL', 'TBL_FINANCIAL') }}
