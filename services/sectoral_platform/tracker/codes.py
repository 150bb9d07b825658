"""DHIS2 tracker validation codes and their message templates (`{0}`, `{1}` are the args)."""

from __future__ import annotations

from typing import Any

MESSAGES = {
    "E1000": "User has no write access to OrganisationUnit: `{0}`.",
    "E1002": "TrackedEntity: `{0}`, already exists.",
    "E1005": "Could not find TrackedEntityType: `{0}`.",
    "E1006": "Attribute: `{0}`, does not exist.",
    "E1010": "Could not find Program: `{0}`, linked to Event.",
    "E1011": "Could not find OrganisationUnit: `{0}`, linked to Event.",
    "E1013": "Could not find ProgramStage: `{0}`, linked to Event.",
    "E1014": "Provided Program: `{0}`, is a Program without registration. "
    "An Enrollment cannot be created into Program without registration.",
    "E1015": "TrackedEntity: `{0}`, already has an active Enrollment in Program `{1}`.",
    "E1016": "TrackedEntity: `{0}`, already has an active enrollment in Program: `{1}`, "
    "and this program only allows enrolling one time.",
    "E1018": "Attribute: `{0}`, is mandatory in program `{1}` "
    "but not declared in enrollment `{2}`.",
    "E1019": "Only Program attributes is allowed for enrollment; Non valid attribute: `{0}`.",
    "E1022": "TrackedEntity: `{0}`, must have same TrackedEntityType as Program `{1}`.",
    "E1023": "DisplayIncidentDate is true but property occurredAt is null "
    "or has an invalid format: `{0}`.",
    "E1025": "Property enrolledAt is null or has an invalid format: `{0}`.",
    "E1029": "Event OrganisationUnit: `{0}`, and Program: `{1}`, don't match.",
    "E1030": "Event: `{0}`, already exists.",
    "E1031": "Event OccurredAt date is missing.",
    "E1032": "Event: `{0}`, do not exist.",
    "E1033": "Event: `{0}`, Enrollment value is NULL or does not exist: `{1}`.",
    "E1037": "Event: `{0}`, cannot be added to Enrollment `{1}` with status {2}.",
    "E1039": "ProgramStage: `{0}`, is not repeatable and an event already exists.",
    "E1041": "Enrollment OrganisationUnit: `{0}`, and Program: `{1}`, don't match.",
    "E1048": "Object: `{0}`, uid: `{1}`, has an invalid uid format.",
    "E1049": "Could not find OrganisationUnit: `{0}`, linked to Tracked Entity.",
    "E1050": "Event ScheduledAt date is missing.",
    "E1063": "TrackedEntity: `{0}`, does not exist.",
    "E1064": "Non-unique attribute value `{0}` for attribute `{1}`",
    "E1068": "Could not find TrackedEntity: `{0}`, linked to Enrollment.",
    "E1069": "Could not find Program: `{0}`, linked to Enrollment.",
    "E1070": "Could not find OrganisationUnit: `{0}`, linked to Enrollment.",
    "E1080": "Enrollment: `{0}`, already exists.",
    "E1081": "Enrollment: `{0}`, do not exist.",
    "E1085": "Attribute: `{0}`, value does not match value type: `{1}`.",
    "E1089": "Event: `{0}`, references a Program Stage `{1}` that does not belong "
    "to Program `{2}`.",
    "E1090": "Attribute: `{0}`, is mandatory in tracked entity type `{1}` "
    "but not declared in tracked entity `{2}`.",
    "E1125": "Value `{0}` is not a valid option for `{1}` in option set `{2}`",
    "E1302": "Value: `{0}`, is not valid for data element `{1}`: {2}",
    "E1303": "Mandatory DataElement `{0}` is not present",
    "E1304": "DataElement `{0}` is not a valid data element",
    "E1305": "DataElement `{0}` is not part of `{1}` program stage",
    "E5000": '"{0}" `{1}` cannot be persisted because "{2}" `{3}` referenced by it '
    "cannot be persisted.",
}


def report(code: str, kind: str, uid: str, *args: object) -> dict[str, Any]:
    """An error report as DHIS2's tracker import renders it."""
    texts = [str(a) for a in args]
    return {
        "message": MESSAGES[code].format(*texts),
        "errorCode": code,
        "trackerType": kind,
        "uid": uid,
        "args": texts,
    }
