"""Admin API: bulk imports of customer accounts, as jobs (start, follow, read the report, resume)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.exceptions import HTTPException
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import QueryParameter

from service.audit import AuditEvent, AuditTrail
from service.http.admin.auth import Admin, AdminActor, AdminController
from service.http.common import Id, Injected, StartIndex
from service.http.contract import documented_body
from service.imports.records import ImportJob, ImportJobPage, ImportSource, LineErrorPage
from service.imports.service import Imports

NDJSON = "application/x-ndjson"
_EXAMPLE_LINE = (
    '{"externalId": "m2-1001", "customerSet": "default", "emailAddress": "jdoe@example.com", "firstName": "Jane", '
    '"lastName": "Doe", "customerSinceDate": "2020-07-22T23:12:47Z", "passwordHash": "$2y$10$…", '
    '"passwordHashFormat": "auto", "magento": {"groupId": 1, "storeCode": "default"}, "contacts": [{"firstName": '
    '"Jane", "lastNameOrSurname": "Doe", "address1": "160 1st St.", "cityOrTown": "Mineola", "stateOrProvince": '
    '"NY", "postalOrZipCode": "11501", "countryCode": "US", "phoneHome": "516-555-1111", "types": [{"name": '
    '"Billing", "isPrimary": true}], "magento": {"regionId": 43, "region": "New York"}}]}'
)
IMPORT_BODY = documented_body(
    Schema(
        type=OpenAPIType.STRING,
        description="Newline-delimited JSON, one customer account a line (README, Bulk imports): the account's fields "
        "in Kibo's names, `contacts`, `customerSet` (a code; default: the default site's), `magento` (Magento's own "
        "fields), `passwordHash` and `passwordHashFormat` (default `auto`).",
        examples=[_EXAMPLE_LINE + "\n"],
    ),
    NDJSON,
)
ImportPageSize = Annotated[
    int, QueryParameter(name="pageSize", ge=1, le=1000, description="At most 1000; default 100.")
]


def _job_answer(job: ImportJob) -> Response[ImportJob]:
    location = f"/admin/v1/tenants/{job.tenant_id}/imports/{job.id}"
    return Response(job, status_code=202, headers={"Location": location})


class ImportController(AdminController):
    path = "/admin/v1/tenants/{tenant_id:int}/imports"
    tags = ["Admin: imports"]

    @post(
        "/",
        status_code=202,
        summary="Import customer accounts from newline-delimited JSON; answers with the job that imports them",
        description="The answer's Location is the job. The body is read as it streams in and kept until each "
        "line is imported, so a crash loses nothing. Lines match existing accounts by externalId, or imported "
        "accounts by email: running a file again updates instead of duplicating. A line that fails (invalid, or "
        "colliding with an account this import did not make) is reported and never stops the others. "
        "`dryRun=true` checks everything and writes nothing.",
        operation_class=IMPORT_BODY,
        request_max_body_size=None,  # streamed: no line is held longer than it takes to spool it
    )
    async def start_import(
        self,
        imports: Injected[Imports],
        admin: Admin,
        who: AdminActor,
        tenant_id: Id,
        request: Request[Any, Any, Any],
        dry_run: Annotated[bool, QueryParameter(name="dryRun", description="Check only; write nothing.")] = False,
    ) -> Response[ImportJob]:
        admin.require_tenant(tenant_id, write=True)
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != NDJSON:
            raise HTTPException(status_code=415, detail=f"Send the body as {NDJSON}.")
        job = await imports.start(tenant_id, who, request.stream(), source=ImportSource.NDJSON, dry_run=dry_run)
        return _job_answer(job)

    @get("/", summary="The tenant's import jobs, newest first")
    async def list_imports(
        self,
        imports: Injected[Imports],
        admin: Admin,
        tenant_id: Id,
        start_index: StartIndex = 0,
        page_size: ImportPageSize = 100,
    ) -> ImportJobPage:
        admin.require_tenant(tenant_id, write=False)
        return await imports.list_jobs(tenant_id, start_index, page_size)

    @get("/{job_id:int}", summary="An import job: its progress, counts and first line errors")
    async def get_import(self, imports: Injected[Imports], admin: Admin, tenant_id: Id, job_id: Id) -> ImportJob:
        admin.require_tenant(tenant_id, write=False)
        return await imports.get(tenant_id, job_id)

    @get("/{job_id:int}/errors", summary="Every line error of an import job, by line number")
    async def list_import_errors(
        self,
        imports: Injected[Imports],
        admin: Admin,
        tenant_id: Id,
        job_id: Id,
        start_index: StartIndex = 0,
        page_size: ImportPageSize = 100,
    ) -> LineErrorPage:
        admin.require_tenant(tenant_id, write=False)
        return await imports.errors(tenant_id, job_id, start_index, page_size)

    @get("/{job_id:int}/audit-events", summary="Who started, resumed and finished an import job, with its counts")
    async def list_import_audit_events(
        self,
        imports: Injected[Imports],
        audit_trail: Injected[AuditTrail],
        admin: Admin,
        tenant_id: Id,
        job_id: Id,
    ) -> list[AuditEvent]:
        admin.require_tenant(tenant_id, write=False)
        await imports.get(tenant_id, job_id)  # another tenant's job is not found, like one that does not exist
        return await audit_trail.of_import_job(tenant_id, job_id, 100)

    @post(
        "/{job_id:int}/resume",
        status_code=202,
        summary="Go on with an interrupted import job from its last committed line",
        description="A job that a process is running already is left to it; a finished job answers 409.",
    )
    async def resume_import(
        self, imports: Injected[Imports], admin: Admin, who: AdminActor, tenant_id: Id, job_id: Id
    ) -> Response[ImportJob]:
        admin.require_tenant(tenant_id, write=True)
        return _job_answer(await imports.resume(tenant_id, who, job_id))
