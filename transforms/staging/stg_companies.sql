-- One row per listed company, renamed and trimmed from the operational table.
with source as (
    select * from {{ source('OPERATIONAL', 'TBL_COMPANY') }}
)

select
    -- identity
    upper(trim(SYMBOL)) as symbol,
    trim(COMPANY_NAME) as company_name,
    -- classification
    coalesce(nullif(trim(SECTOR), ''), 'Unknown') as sector,
    nullif(trim(INDUSTRY), '') as industry,
    nullif(trim(EXCHANGE), '') as exchange
from source
