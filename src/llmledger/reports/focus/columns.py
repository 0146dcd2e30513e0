"""The FOCUS columns llmledger writes, with the specification's rules for each.

FOCUS 1.2 (FinOps Open Cost and Usage Specification), plus the 1.3 participating-entity
columns ``ServiceProviderName`` and ``HostProviderName`` that the specification's AI
billing examples use. Each `Column` carries what the specification says of it: feature
level, whether nulls are allowed, data type and allowed values. The validator reads these
rules; the writers read the order and types.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

FOCUS_VERSION = "1.2"


class Level(StrEnum):
    MANDATORY = "Mandatory"
    CONDITIONAL = "Conditional"
    RECOMMENDED = "Recommended"


class Kind(StrEnum):
    STRING = "String"
    DECIMAL = "Decimal"
    DATETIME = "DateTime"
    JSON = "KeyValue"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: Kind
    level: Level
    nullable: bool
    allowed: frozenset[str] = frozenset()
    #: Parquet decimal scale (decimal128(38, scale)) of a Decimal column.
    scale: int = 9
    #: The FOCUS version that introduced the column.
    since: str = "1.0"


def _c(
    name: str,
    kind: Kind,
    level: Level,
    nullable: bool,
    *allowed: str,
    scale: int = 9,
    since: str = "1.0",
) -> Column:
    return Column(name, kind, level, nullable, frozenset(allowed), scale, since)


M, C, R = Level.MANDATORY, Level.CONDITIONAL, Level.RECOMMENDED
S, D, T, J = Kind.STRING, Kind.DECIMAL, Kind.DATETIME, Kind.JSON

CHARGE_CATEGORIES = ("Usage", "Purchase", "Tax", "Credit", "Adjustment")
CHARGE_FREQUENCIES = ("One-Time", "Recurring", "Usage-Based")
PRICING_CATEGORIES = ("Standard", "Dynamic", "Committed", "Other")

#: ServiceCategory -> its allowed ServiceSubcategory values (FOCUS 1.1 and 1.2).
SERVICE_SUBCATEGORIES: dict[str, tuple[str, ...]] = {
    "AI and Machine Learning": (
        "Bots",
        "Generative AI",
        "Machine Learning",
        "Natural Language Processing",
        "Other (AI and Machine Learning)",
    ),
    "Analytics": (
        "Analytics Platform",
        "Business Intelligence",
        "Data Processing",
        "Search",
        "Streaming Analytics",
        "Other (Analytics)",
    ),
    "Business Applications": ("Other (Business Applications)",),
    "Compute": (
        "Containers",
        "End User Computing",
        "Quantum",
        "Serverless Compute",
        "Virtual Machines",
        "Other (Compute)",
    ),
    "Databases": (
        "Caching",
        "Data Warehouse",
        "Relational",
        "NoSQL",
        "Ledger",
        "Time Series",
        "Other (Databases)",
    ),
    "Developer Tools": ("Other (Developer Tools)",),
    "Identity": ("Other (Identity)",),
    "Integration": ("API Management", "Messaging", "Workflow Automation", "Other (Integration)"),
    "Internet of Things": ("Other (Internet of Things)",),
    "Management and Governance": (
        "Administration",
        "Architecture",
        "Compliance",
        "Cost Management",
        "Data Governance",
        "Disaster Recovery",
        "Observability",
        "Support",
        "Other (Management and Governance)",
    ),
    "Media": ("Other (Media)",),
    "Migration": ("Other (Migration)",),
    "Mobile": ("Other (Mobile)",),
    "Multicloud": ("Other (Multicloud)",),
    "Networking": (
        "Content Delivery",
        "Data Transfer",
        "Load Balancing",
        "Network Management",
        "Network Security",
        "Other (Networking)",
    ),
    "Security": ("CSPM", "Credentials", "SIEM", "Threat Detection", "Other (Security)"),
    "Storage": ("Backups", "Bulk Transfer", "Disk", "Files", "Object Storage", "Other (Storage)"),
    "Web": ("Other (Web)",),
    "Other": ("Other (Other)",),
}

#: The columns of llmledger's FOCUS dataset, in output order.
COLUMNS: tuple[Column, ...] = (
    _c("BilledCost", D, M, False),
    _c("BillingAccountId", S, M, False),
    _c("BillingAccountName", S, M, True),
    _c("BillingCurrency", S, M, False),
    _c("BillingPeriodEnd", T, M, False),
    _c("BillingPeriodStart", T, M, False),
    _c("ChargeCategory", S, M, False, *CHARGE_CATEGORIES),
    _c("ChargeClass", S, M, True, "Correction"),
    _c("ChargeDescription", S, M, True),
    _c("ChargeFrequency", S, R, False, *CHARGE_FREQUENCIES),
    _c("ChargePeriodEnd", T, M, False),
    _c("ChargePeriodStart", T, M, False),
    _c("ConsumedQuantity", D, C, True),
    _c("ConsumedUnit", S, C, True),
    _c("ContractedCost", D, M, False),
    _c("ContractedUnitPrice", D, C, True, scale=12),
    _c("EffectiveCost", D, M, False),
    _c("HostProviderName", S, M, False, since="1.3"),
    _c("InvoiceId", S, R, True, since="1.2"),
    _c("InvoiceIssuerName", S, M, False),
    _c("ListCost", D, M, False),
    _c("ListUnitPrice", D, C, True, scale=12),
    _c("PricingCategory", S, C, True, *PRICING_CATEGORIES),
    _c("PricingQuantity", D, M, True),
    _c("PricingUnit", S, M, True),
    _c("ProviderName", S, M, False),
    _c("PublisherName", S, M, False),
    _c("ServiceCategory", S, M, False, *SERVICE_SUBCATEGORIES),
    _c("ServiceName", S, M, False),
    _c("ServiceProviderName", S, M, False, since="1.3"),
    _c(
        "ServiceSubcategory",
        S,
        R,
        False,
        *(v for values in SERVICE_SUBCATEGORIES.values() for v in values),
        since="1.1",
    ),
    _c("SkuId", S, C, True),
    _c("SkuMeter", S, C, True, since="1.1"),
    _c("SkuPriceDetails", J, C, True, since="1.1"),
    _c("SkuPriceId", S, C, True),
    _c("Tags", J, C, True),
    #: llmledger's own usage type name (a custom column: ``x_`` prefix).
    _c("x_UsageType", S, C, False),
)

BY_NAME = {c.name: c for c in COLUMNS}
NAMES = tuple(c.name for c in COLUMNS)

#: Mandatory FOCUS 1.2 columns that this dataset must hold (checked by the validator),
#: beyond the ones above: none are left out. Conditional columns not written here
#: (regions, resources, sub accounts, commitment discounts, capacity reservations,
#: pricing currency) apply to features the ledger does not have.
REQUIRED = tuple(c.name for c in COLUMNS if c.level is Level.MANDATORY)

#: Columns the FOCUS 1.2 specification marks Mandatory: every FOCUS dataset holds them.
SPEC_MANDATORY = frozenset(
    {
        "BilledCost",
        "BillingAccountId",
        "BillingAccountName",
        "BillingCurrency",
        "BillingPeriodEnd",
        "BillingPeriodStart",
        "ChargeCategory",
        "ChargeClass",
        "ChargeDescription",
        "ChargePeriodEnd",
        "ChargePeriodStart",
        "ContractedCost",
        "EffectiveCost",
        "InvoiceIssuerName",
        "ListCost",
        "PricingQuantity",
        "PricingUnit",
        "ProviderName",
        "PublisherName",
        "ServiceCategory",
        "ServiceName",
    }
)

#: Every column ID FOCUS 1.2 defines, plus the 1.3 ones used here; any other column
#: must be a custom column (``x_`` prefix).
SPEC_COLUMNS = SPEC_MANDATORY | frozenset(
    {
        "AvailabilityZone",
        "BillingAccountType",
        "CapacityReservationId",
        "CapacityReservationStatus",
        "ChargeFrequency",
        "CommitmentDiscountCategory",
        "CommitmentDiscountId",
        "CommitmentDiscountName",
        "CommitmentDiscountQuantity",
        "CommitmentDiscountStatus",
        "CommitmentDiscountType",
        "CommitmentDiscountUnit",
        "ConsumedQuantity",
        "ConsumedUnit",
        "ContractedUnitPrice",
        "InvoiceId",
        "ListUnitPrice",
        "PricingCategory",
        "PricingCurrency",
        "PricingCurrencyContractedUnitPrice",
        "PricingCurrencyEffectiveCost",
        "PricingCurrencyListUnitPrice",
        "RegionId",
        "RegionName",
        "ResourceId",
        "ResourceName",
        "ResourceType",
        "ServiceSubcategory",
        "SkuId",
        "SkuMeter",
        "SkuPriceDetails",
        "SkuPriceId",
        "SubAccountId",
        "SubAccountName",
        "SubAccountType",
        "Tags",
        # FOCUS 1.3
        "ServiceProviderName",
        "HostProviderName",
    }
)
