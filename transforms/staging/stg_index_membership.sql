-- One row per index member per as-of date.
select
    upper(INDEX_CODE) as index_code,
    upper(SYMBOL) as symbol,
    AS_OF as as_of_date,
    WEIGHT as weight_pct,
    COMPANY_NAME as company_name
from {{ source('OPERATIONAL', 'TBL_INDEX_MEMBERSHIP') }}
