"""What each DHIS2 endpoint of the sandbox accepts: the one table routes are checked against.

A parameter DHIS2 defines for an endpoint but the sandbox does not implement is refused (409,
naming it); a parameter DHIS2 itself does not know is ignored, as DHIS2 ignores it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from fastapi import Request

from services.sectoral_platform.dhis2.params import refuse_unknown
from services.sectoral_platform.errors import not_implemented


@dataclass(frozen=True, slots=True)
class Endpoint:
    supported: frozenset[str]
    refused: frozenset[str] = frozenset()
    # a supported parameter of which only some values are implemented
    values: dict[str, frozenset[str]] = field(default_factory=dict)


def _e(supported: str, refused: str = "", **values: str) -> Endpoint:
    return Endpoint(
        frozenset(supported.split()),
        frozenset(refused.split()),
        {k: frozenset(v.split()) for k, v in values.items()},
    )


_LIST = "fields filter order page pageSize paging rootJunction query totalPages translate locale"
_LIST_REFUSED = "defaults inclusionStrategy"
_UNIT_LIST = (
    "userOnly userDataViewOnly userDataViewFallback level maxLevel levelSorted parent "
    "includeDescendants includeChildren"
)
_UNIT_LIST_REFUSED = "withinUserHierarchy withinUserSearchHierarchy memberCollection memberObject"
_ID_SCHEMES = (
    "idScheme dataElementIdScheme orgUnitIdScheme categoryOptionComboIdScheme "
    "attributeOptionComboIdScheme dataSetIdScheme"
)
_DVS_READ = (
    "dataSet dataElement period startDate endDate orgUnit children attributeOptionCombo limit "
    "lastUpdated lastUpdatedDuration format"
)
_DVS_READ_REFUSED = (
    "dataElementGroup orgUnitGroup includeDeleted includeDescendants "
    "attachment compression returnParentOrgUnit attributeCombo attributeOptions "
    "inputIdScheme inputOrgUnitIdScheme inputDataElementIdScheme inputDataSetIdScheme "
    "inputDataElementGroupIdScheme categoryOptionIdScheme categoryIdScheme programIdScheme "
    "programStageIdScheme trackedEntityAttributeIdScheme"
)
_DVS_WRITE = "importStrategy strategy dryRun async preheatCache format firstRowIsHeader"
_DVS_WRITE_REFUSED = (
    "skipExistingCheck skipAudit strictPeriods strictDataElements strictCategoryOptionCombos "
    "strictAttributeOptionCombos strictOrganisationUnits strictDataSetApproval "
    "strictDataSetLocking strictDataSetInputPeriods requireCategoryOptionCombo "
    "requireAttributeOptionCombo force dataSet notificationLevel "
    "categoryOptionIdScheme categoryIdScheme"
)
_TRACKER_READ = (
    "fields page pageSize paging skipPaging totalPages orgUnit orgUnits orgUnitMode ouMode program "
    "trackedEntityType trackedEntity trackedEntities filter order updatedAfter updatedBefore "
    "updatedWithin"
)
# TrackerIdSchemeParams: every tracker export takes them, none is implemented here
_TRACKER_ID_SCHEMES = (
    "idScheme orgUnitIdScheme programIdScheme programStageIdScheme dataElementIdScheme "
    "categoryOptionComboIdScheme categoryOptionIdScheme"
)
_TRACKER_READ_REFUSED = (
    f"{_TRACKER_ID_SCHEMES} assignedUserMode assignedUsers enrollmentStatus "
    "enrollmentEnrolledAfter enrollmentEnrolledBefore enrollmentOccurredAfter "
    "enrollmentOccurredBefore includeDeleted potentialDuplicate followUp "
    "attachment programStatus programStage eventStatus eventOccurredAfter eventOccurredBefore"
)
# MetadataImportParams, read by every metadata write (`getParamsFromMap`)
_OBJECT_WRITE_REFUSED = (
    "importMode identifier importReportMode preheatMode importStrategy atomicMode flushMode "
    "skipSharing skipTranslation skipValidation async"
)

_ANALYTICS = _e(
    "dimension filter displayProperty relativePeriodDate outputIdScheme skipMeta skipData "
    "skipRounding includeNumDen showHierarchy hierarchyMeta aggregationType measureCriteria "
    "startDate endDate outputOrgUnitIdScheme outputDataElementIdScheme outputDataItemIdScheme "
    "order userOrgUnit ignoreLimit preAggregationMeasureCriteria includeMetadataDetails",
    "inputIdScheme hideEmptyRows hideEmptyColumns "
    "approvalLevel timeField orgUnitField columns rows tableLayout userOrgUnitType "
    "completedOnly",
    outputIdScheme="UID CODE NAME",
    outputOrgUnitIdScheme="UID CODE NAME",
    outputDataElementIdScheme="UID CODE NAME",
    outputDataItemIdScheme="UID CODE NAME",
    order="ASC DESC",
    displayProperty="NAME SHORTNAME",
    aggregationType="SUM AVERAGE AVERAGE_SUM_ORG_UNIT LAST LAST_AVERAGE_ORG_UNIT FIRST "
    "FIRST_AVERAGE_ORG_UNIT COUNT MIN MAX",
)
_EV_COMMON = (
    "dimension filter stage startDate endDate eventStatus programStatus relativePeriodDate "
    "displayProperty"
)
_EV_REFUSED = (
    "hierarchyMeta columns rows timeField outputIdScheme enhancedConditions userOrgUnit "
    "includeMetadataDetails eventDate enrollmentDate scheduledDate incidentDate lastUpdated "
    "coordinateField"
)
# in 2.42's EventsAnalyticsQueryCriteria
_EV_REFUSED_242 = "occurredDate enrollmentOccurredDate rowContext defaultCoordinateFallback"
_EV_QUERY_REFUSED = (
    f"{_EV_REFUSED} {_EV_REFUSED_242} coordinatesOnly coordinateOuFallback dataIdScheme headers "
    "fallbackCoordinateField skipMeta skipData skipRounding completedOnly showHierarchy "
    "orgUnitField"
)
_EV_AGGREGATE_REFUSED = (
    f"{_EV_REFUSED} {_EV_REFUSED_242} showHierarchy sortOrder limit outputType "
    "collapseDataDimensions skipMeta skipData skipRounding aggregateData orgUnitField completedOnly"
)

ENDPOINTS: dict[tuple[str, str], Endpoint] = {
    ("GET", "/api/{collection}"): _e(
        f"{_LIST} {_UNIT_LIST}", f"{_LIST_REFUSED} {_UNIT_LIST_REFUSED}"
    ),
    ("GET", "/api/{collection}/{uid}"): _e(
        "fields translate locale includeChildren includeDescendants includeAncestors level"
    ),
    ("GET", "/api/{collection}/{uid}/{prop}"): _e(
        f"{_LIST} includeSelf", f"{_LIST_REFUSED} {_UNIT_LIST_REFUSED}"
    ),
    ("POST", "/api/{collection}"): _e("", _OBJECT_WRITE_REFUSED),
    ("PUT", "/api/{collection}/{uid}"): _e("", _OBJECT_WRITE_REFUSED),
    ("PATCH", "/api/{collection}/{uid}"): _e("", _OBJECT_WRITE_REFUSED),
    ("DELETE", "/api/{collection}/{uid}"): _e(""),
    ("GET", "/api/me"): _e("fields"),
    ("GET", "/api/me/authorization"): _e(""),
    ("GET", "/api/apiToken"): _e("", f"{_LIST} {_LIST_REFUSED}"),
    ("POST", "/api/apiToken"): _e(""),
    ("DELETE", "/api/apiToken/{uid}"): _e(""),
    ("GET", "/api/system/info"): _e(""),
    ("GET", "/api/system/id"): _e("limit"),
    ("GET", "/api/system/ping"): _e(""),
    ("GET", "/api/schemas"): _e("fields"),
    ("GET", "/api/schemas/{name}"): _e("fields"),
    ("GET", "/api/resources"): _e(""),
    ("POST", "/api/metadata"): _e(
        "importStrategy atomicMode importMode importReportMode",
        "identifier preheatMode flushMode skipSharing skipValidation skipTranslation async",
        atomicMode="ALL NONE",
        importReportMode="ERRORS",
    ),
    # `{plural}:fields|filter|order` and `{plural}=true` are checked by the export itself
    ("GET", "/api/metadata"): _e("fields", "filter order defaults skipSharing download"),
    ("GET", "/api/dataValueSets"): _e(f"{_DVS_READ} {_ID_SCHEMES}", _DVS_READ_REFUSED),
    ("GET", "/api/dataValueSets.{suffix}"): _e(f"{_DVS_READ} {_ID_SCHEMES}", _DVS_READ_REFUSED),
    ("POST", "/api/dataValueSets"): _e(f"{_DVS_WRITE} {_ID_SCHEMES}", _DVS_WRITE_REFUSED),
    ("GET", "/api/completeDataSetRegistrations"): _e(
        "dataSet period startDate endDate orgUnit children",
        "created createdDuration limit dataSetIdScheme orgUnitIdScheme idScheme "
        "attributeOptionComboIdScheme includeChildren orgUnitGroup",
    ),
    ("POST", "/api/completeDataSetRegistrations"): _e(
        "importStrategy dryRun preheatCache",
        "idScheme dataSetIdScheme orgUnitIdScheme attributeOptionComboIdScheme async "
        "skipExistingCheck requireAttributeOptionCombo strictAttributeOptionCombos "
        "strictOrganisationUnits strictPeriods",
    ),
    ("DELETE", "/api/completeDataSetRegistrations"): _e("ds pe ou", "cc cp multiOu"),
    **{
        ("GET", path): _ANALYTICS
        for path in (
            "/api/analytics",
            "/api/analytics.{suffix}",
            "/api/analytics/dataValueSet",
            "/api/analytics/dataValueSet.{suffix}",
            "/api/analytics/rawData",
        )
    },
    ("GET", "/api/analytics/events/query/{program}"): _e(
        f"{_EV_COMMON} ouMode asc desc page pageSize paging totalPages",
        _EV_QUERY_REFUSED,
        displayProperty="NAME",
    ),
    ("GET", "/api/analytics/events/aggregate/{program}"): _e(
        f"{_EV_COMMON} value aggregationType ouMode",
        _EV_AGGREGATE_REFUSED,
        displayProperty="NAME",
    ),
    ("GET", "/api/analytics/enrollments/query/{program}"): _e(
        "dimension filter startDate endDate programStatus relativePeriodDate displayProperty "
        "ouMode asc desc page pageSize paging totalPages",
        "headers coordinatesOnly timeField hierarchyMeta columns rows skipMeta skipData "
        "outputIdScheme enrollmentDate incidentDate lastUpdated dataIdScheme enhancedConditions "
        "showHierarchy includeMetadataDetails userOrgUnit occurredDate skipRounding completedOnly "
        "coordinateField sortOrder rowContext",
        displayProperty="NAME",
    ),
    ("POST", "/api/tracker"): _e(
        "importStrategy atomicMode importMode reportMode async skipRuleEngine",
        "validationMode skipPatternValidation skipSideEffects flushMode idScheme "
        "dataElementIdScheme orgUnitIdScheme programIdScheme programStageIdScheme "
        "categoryOptionComboIdScheme categoryOptionIdScheme",
    ),
    **{
        (method, "/api/dataValues"): _e("de pe ou co cc ds value comment followUp force", "cp")
        for method in ("GET", "POST", "DELETE")
    },
    ("GET", "/api/tracker/trackedEntities"): _e(_TRACKER_READ, _TRACKER_READ_REFUSED),
    ("GET", "/api/tracker/enrollments"): _e(
        "fields page pageSize paging skipPaging totalPages orgUnit orgUnits orgUnitMode ouMode "
        "program status programStatus trackedEntity enrollments order updatedAfter updatedWithin",
        "enrolledAfter enrolledBefore followUp includeDeleted trackedEntityType",
    ),
    ("GET", "/api/tracker/events"): _e(
        "fields page pageSize paging skipPaging totalPages orgUnit orgUnits orgUnitMode ouMode "
        "program programStage trackedEntity status occurredAfter occurredBefore events event "
        "enrollments enrollment order filter updatedAfter updatedBefore updatedWithin",
        "filterAttributes scheduledAfter scheduledBefore attributeCategoryCombo "
        "attributeCategoryOptions assignedUserMode assignedUsers includeDeleted "
        f"{_TRACKER_ID_SCHEMES} programStatus followUp enrollmentStatus enrollmentEnrolledAfter "
        "enrollmentEnrolledBefore enrollmentOccurredAfter enrollmentOccurredBefore",
    ),
    ("GET", "/api/tracker/trackedEntities/{uid}"): _e("fields", f"program {_TRACKER_ID_SCHEMES}"),
    ("GET", "/api/tracker/enrollments/{uid}"): _e("fields"),
    ("GET", "/api/tracker/events/{uid}"): _e("fields", _TRACKER_ID_SCHEMES),
    ("GET", "/api/tracker/jobs/{uid}"): _e(""),
    ("GET", "/api/tracker/jobs/{uid}/report"): _e("", "reportMode"),
    ("GET", "/api/system/tasks/{job_type}/{uid}"): _e(""),
    ("GET", "/api/system/taskSummaries/{job_type}/{uid}"): _e(""),
    ("GET", "/api/validation/dataSet/{ds}"): _e("pe ou aoc", "cc cp"),
    ("POST", "/api/dataAnalysis/validationRules"): _e(""),
    ("POST", "/api/predictors/run"): _e("startDate endDate"),
    ("POST", "/api/predictors/{uid}/run"): _e("startDate endDate"),
    ("GET", "/api/tracker/relationships"): _e(
        "fields page pageSize paging skipPaging totalPages trackedEntity enrollment event",
        "order includeDeleted",
    ),
    ("GET", "/api/tracker/relationships/{uid}"): _e("fields"),
    ("GET", "/api/apps"): _e("key"),
    ("POST", "/api/apps"): _e(""),
    ("GET", "/api/apps/{key}"): _e(""),
    ("GET", "/api/apps/{key}/{path:path}"): _e(""),
    ("DELETE", "/api/apps/{key}"): _e("deleteAppData"),
    # a route's `run` paths pass their query to the upstream, as DHIS2's do: no entry
    ("GET", "/api/routes"): _e(
        "page pageSize paging fields",
        f"filter order rootJunction query totalPages translate locale {_LIST_REFUSED}",
    ),
    ("POST", "/api/routes"): _e("", _OBJECT_WRITE_REFUSED),
    ("GET", "/api/routes/{ident}"): _e("fields", "translate locale"),
    ("PUT", "/api/routes/{uid}"): _e("", _OBJECT_WRITE_REFUSED),
    ("DELETE", "/api/routes/{uid}"): _e(""),
}
# DatastoreController and UserDatastoreController (`username`: another user's store)
_DATASTORE = {
    ("GET", ""): "",
    ("GET", "/{namespace}/keys"): "lastUpdated",
    ("GET", "/{namespace}"): "fields filter rootJunction order page pageSize paging headless "
    "includeAll lastUpdated",
    ("DELETE", "/{namespace}"): "",
    ("GET", "/{namespace}/{key}"): "",
    ("GET", "/{namespace}/{key}/metaData"): "",
    ("POST", "/{namespace}/{key}"): "encrypt",
    ("PUT", "/{namespace}/{key}"): "encrypt",
    ("DELETE", "/{namespace}/{key}"): "",
}
for (_method, _tail), _supported in _DATASTORE.items():
    _partial = "path roll" if _method == "PUT" else ""  # a partial update of a value
    ENDPOINTS[(_method, f"/api/dataStore{_tail}")] = _e(_supported, _partial)
    ENDPOINTS[(_method, f"/api/userDataStore{_tail}")] = _e(_supported, f"{_partial} username")


def refuse(name: str, value: str | None = None) -> None:
    shown = name if value is None else f"{name}={value}"
    raise not_implemented(f"Query parameter `{shown}` is defined by DHIS2 but not implemented here")


def sandbox_parameters(*supported: str) -> Callable[[Request], None]:
    """A route dependency for the sandbox's own endpoints (no DHIS2 counterpart): any other
    query parameter is refused, naming it."""

    def check(request: Request) -> None:
        refuse_unknown(request.query_params, supported)

    return check


async def check_parameters(request: Request) -> None:
    """A router dependency: the matched route's table entry decides."""
    route = request.scope.get("route")
    spec = ENDPOINTS.get((request.method, getattr(route, "path", "")))
    if spec is None:
        return
    for name, value in request.query_params.multi_items():
        if name in spec.refused:
            refuse(name)
        allowed = spec.values.get(name)
        if allowed is not None and value.upper() not in allowed:
            refuse(name, value)
