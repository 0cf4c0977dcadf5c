"""The template model: a typed, read-only view over a :class:`SourceDocument`.

Every model object remembers the element it came from (``ref``, the element's
index in document order) and its :class:`~engine.errors.Location`, so the
linter and the runtime can say "file:line:col field".  Edits go through
:class:`Template` methods that splice the source and return a new Template;
untouched parts keep their exact bytes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from engine.errors import Location, TemplateError
from engine.files import atomic_write
from engine.template.findings import Finding, error, warning
from engine.template.xml import MAX_BYTES, SourceDocument, parse_source, template_error

# ---- the vocabulary of the format (spec Part A) ---------------------------------------------------

AUTH_TYPES = ("none", "basic", "oauth2", "bearer")
PROVIDERS = ("helpdesk", "crm")
EDITORS = ("string", "password", "dropdown")
CREDENTIAL_TYPES = ("username_password", "api_key")
MAX_CUSTOM_FIELDS = 5

AUTH, CONTACT_MATCH, CONTACT_SEARCH = "AuthMethod", "SyncContactAuto", "SearchContact"
USER_ASSOCIATION, CREATE_CONTACT = "UserAssociation", "CreateNewContact"
CALL_JOURNAL, CREATE_TICKET, COMMON = "CallJournal", "CreateNewTicket", "Common"
SCENARIO_IDS = (AUTH, CONTACT_MATCH, CONTACT_SEARCH, USER_ASSOCIATION, CREATE_CONTACT, CALL_JOURNAL,
                CREATE_TICKET, COMMON)

# Information flag -> scenario it switches on
FEATURE_SCENARIOS = {
    "UserAssociation": USER_ASSOCIATION,
    "CreateNewContact": CREATE_CONTACT,
    "CallJournal": CALL_JOURNAL,
    "CreateNewTicket": CREATE_TICKET,
}

PHONE_FIELDS = ("BusinessNumber", "BusinessNumber2", "BusinessFaxNumber", "MobileNumber", "MobileNumber2",
                "HomeNumber", "HomeNumber2", "HomeFaxNumber", "OtherNumber")
CONTACT_FIELDS = ("ContactId", "FirstName", "LastName", "Email", "Company", "Remark", *PHONE_FIELDS,
                  "CustomValue")
USER_FIELDS = ("UserUniqueId", "FirstName", "LastName", "Email")
FIELD_ALIASES = {"ContactsId": "ContactId"}

PAGINATION_MODES = ("page", "offset", "cursor", "link")
TICKET_TIMINGS = ("ring", "after_call")  # deskline extension: Parameter Name="CreateTicketAt"

INFORMATION_ATTRIBUTES = ("Provider", "Name", "Key", "Logo", "Remark", "Version", "AuthType",
                          "MaxConcurrentRequest", *FEATURE_SCENARIOS)
KNOWN_ATTRIBUTES = {
    "Information": INFORMATION_ATTRIBUTES,
    "Scenario": ("Id", "Type"),
    "Parameter": ("Name", "Value", "Father", "Type", "Editor", "Title", "Key"),
    "Request": ("Name", "Method", "ResponseType", "URLFormat"),
    "Outputs": ("Next",),
    "Output": ("Name", "Path"),
}
KNOWN_CHILDREN = {
    "Information": ("Parameters", "Scenarios"),
    "Scenarios": ("Scenario",),
    "Scenario": ("Presets", "Parameters", "Requests", "Responses"),
    "Parameters": ("Parameter",),
    "Requests": ("Request",),
    "Request": ("Parameters", "Outputs"),
    "Outputs": ("Output",),
    "Parameter": (),
    "Output": (),
}


def canonical_field(name: str) -> str:
    """The canonical contact field name (``ContactsId`` -> ``ContactId``)."""
    return FIELD_ALIASES.get(name, name)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


# ---- model objects ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Parameter:
    """A ``<Parameter>``: scenario setting, custom field, header, query or body."""

    ref: int
    location: Location
    name: str
    value: str | None
    father: str = ""
    type: str = ""
    editor: str = ""
    title: str = ""
    key: str = ""


@dataclass(frozen=True, slots=True)
class CustomField:
    """An admin-entered field (``Father="CustomFieldList"``), referenced as ``{{.name}}``."""

    ref: int
    location: Location
    name: str
    title: str
    key: str
    editor: str  # string | password | dropdown (as written)
    value: str  # default, or the comma-separated dropdown options

    @property
    def options(self) -> tuple[str, ...]:
        """Dropdown options (empty for other editors)."""
        if self.editor.lower() != "dropdown":
            return ()
        return tuple(o.strip() for o in self.value.split(",") if o.strip())

    @property
    def secret(self) -> bool:
        return self.editor.lower() == "password"


@dataclass(frozen=True, slots=True)
class Output:
    """``<Output Name Path>``: a variable taken from the response with a GJSON path."""

    ref: int
    location: Location
    name: str
    path: str

    @property
    def field(self) -> str:
        """Canonical variable name (``ContactsId`` -> ``ContactId``)."""
        return canonical_field(self.name)


@dataclass(frozen=True, slots=True)
class Request:
    """One ``<Request>`` of a scenario, in document order."""

    ref: int
    location: Location
    scenario: str
    name: str
    method: str
    url: str
    response_type: str
    parameters: tuple[Parameter, ...]
    outputs: tuple[Output, ...]
    next: str | None = None
    outputs_ref: int | None = None
    parameters_ref: int | None = None

    @property
    def headers(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.type.lower() == "header")

    @property
    def query(self) -> tuple[Parameter, ...]:
        return tuple(p for p in self.parameters if p.type.lower() == "query")

    @property
    def body_parameter(self) -> Parameter | None:
        for p in self.parameters:
            if p.type.lower() == "body":
                return p
        return None

    @property
    def body(self) -> str | None:
        """The body template, or None when the request has none."""
        p = self.body_parameter
        return None if p is None else (p.value or "")

    def output_map(self) -> dict[str, str]:
        """Canonical output name -> GJSON path (first one wins)."""
        out: dict[str, str] = {}
        for o in self.outputs:
            out.setdefault(o.field, o.path)
        return out


@dataclass(frozen=True, slots=True)
class Pagination:
    """User Association paging (spec A.5)."""

    location: Location
    mode: str
    page_size: int | None
    first_page: int
    next_path: str
    max_pages: int
    parameters: tuple[Parameter, ...]


@dataclass(frozen=True, slots=True)
class PopupUrl:
    """Contact popup URL: by URL format (a template) or from a contact field (a GJSON path)."""

    kind: str  # specify_url_format | contact_field | "" (not set)
    url_format: str
    field_path: str


@dataclass(frozen=True, slots=True)
class Scenario:
    """One ``<Scenario>`` with its parameters and requests (document order)."""

    ref: int
    location: Location
    id: str
    type: str
    parameters: tuple[Parameter, ...]
    requests: tuple[Request, ...]
    parameters_ref: int | None = None
    requests_ref: int | None = None

    def parameter(self, name: str, father: str = "") -> Parameter | None:
        """The first parameter called *name* (with this *father*, "" = no father)."""
        for p in self.parameters:
            if p.name == name and p.father == father:
                return p
        return None

    def value(self, name: str, default: str = "") -> str:
        p = self.parameter(name)
        return default if p is None or p.value is None else p.value

    def flag(self, name: str) -> bool:
        return _truthy(self.value(name))

    def request(self, name: str) -> Request | None:
        for r in self.requests:
            if r.name == name:
                return r
        return None

    @property
    def custom_parameters(self) -> tuple[Parameter, ...]:
        """User-editable extra fields of this scenario (``Father="CustomScenarioParameter"``)."""
        return tuple(p for p in self.parameters if p.father == "CustomScenarioParameter")

    # -- call journal / ticket ----------------------------------------------------------------------
    @property
    def subject(self) -> str:
        return self.value("Subject")

    @property
    def description(self) -> str:
        return self.value("Description")

    @property
    def subject_enabled(self) -> bool:
        return self.flag("EnableSubject")

    @property
    def description_enabled(self) -> bool:
        return self.flag("EnableDescription")

    @property
    def play_recording_enabled(self) -> bool:
        """The Play Call Recording option is offered (``EnablePlayCallRecording``)."""
        return self.flag("EnablePlayCallRecording")

    @property
    def play_recording(self) -> bool:
        return self.flag("PlayCallRecording")

    @property
    def need_sync_contact(self) -> bool:
        return self.flag("NeedSyncContact")

    @property
    def ticket_timing(self) -> str:
        """When a ticket is created: ``ring`` or ``after_call`` (deskline's ``CreateTicketAt``)."""
        value = self.value("CreateTicketAt", "after_call").strip().lower()
        return value if value in TICKET_TIMINGS else "after_call"

    # -- contact search -----------------------------------------------------------------------------
    @property
    def popup(self) -> PopupUrl:
        return PopupUrl(self.value("ContactUrlType").strip(), self.value("URLFormat"),
                        self.value("ContactFieldForUri"))

    @property
    def enabled_fields(self) -> frozenset[str]:
        """Canonical contact fields switched on with ``<Field>Enable="1"``."""
        out = set()
        for p in self.parameters:
            if not p.father and p.name.endswith("Enable") and p.name != "Enable" and _truthy(p.value):
                out.add(canonical_field(p.name[:-len("Enable")]))
        return frozenset(out)

    @property
    def contact_types(self) -> tuple[str, ...]:
        """Contact types of a contact search / creation scenario: its request names."""
        return tuple(r.name for r in self.requests)

    # -- user association ---------------------------------------------------------------------------
    @property
    def pagination(self) -> Pagination | None:
        params = tuple(p for p in self.parameters if p.father == "Pagination")
        if not params:
            return None
        values = {p.name: (p.value or "").strip() for p in params}

        def number(name: str, default: int | None) -> int | None:
            try:
                return int(values.get(name, ""))
            except ValueError:
                return default

        return Pagination(params[0].location, values.get("Mode", "").lower(), number("PageSize", None),
                          number("FirstPage", 1) or 0, values.get("NextPath", ""), number("MaxPages", 100) or 100,
                          params)


@dataclass(frozen=True, slots=True)
class General:
    """``<Information>`` attributes: the General section and the feature switches."""

    ref: int
    location: Location
    provider: str
    name: str
    key: str
    logo: str
    remark: str
    version: str
    auth_type: str  # lower-cased
    max_concurrent_request: str  # as written ("" when absent)
    user_association: bool
    create_new_contact: bool
    call_journal: bool
    create_new_ticket: bool

    @property
    def max_concurrent(self) -> int | None:
        try:
            return int(self.max_concurrent_request.strip())
        except ValueError:
            return None

    def feature(self, flag: str) -> bool:
        return {"UserAssociation": self.user_association, "CreateNewContact": self.create_new_contact,
                "CallJournal": self.call_journal, "CreateNewTicket": self.create_new_ticket}[flag]


@dataclass(frozen=True, slots=True)
class Authentication:
    """How every request is authorised (the ``AuthMethod`` scenario and ``Information/@AuthType``)."""

    auth_type: str  # none | basic | oauth2 | bearer (lower-cased, as written)
    method: str  # Parameter AuthMethod (lower-cased)
    credential_type: str
    base64_credential: str
    auth_endpoint: str
    token_endpoint: str
    refresh_token_endpoint: str
    scope: str
    additional_query_string: str
    token_type: str
    pkce: bool
    no_need_refresh: bool
    token_invalid: tuple[str, ...]
    headers: tuple[Parameter, ...]
    custom_fields: tuple[CustomField, ...]


# ---- the template -----------------------------------------------------------------------------------

_LABELS = {"Scenario": "Id", "Request": "Name", "Parameter": "Name", "Output": "Name"}
_CONTAINERS = ("Scenarios", "Requests", "Parameters", "Outputs", "Information")


def _field_paths(doc: SourceDocument) -> list[str]:
    """Readable path of every element (``Scenario[X]/Request[Y]/Output[Z]``); containers are left out
    of their descendants' paths."""
    own: list[str] = []
    inherited: list[str] = []  # what descendants start from
    for el, node in zip(doc.elements, doc.nodes):
        label = _LABELS.get(el.tag)
        seg = f"{el.tag}[{node.get(label)}]" if label and node.get(label) is not None else el.tag
        base = inherited[el.parent] if el.parent >= 0 else ""
        own.append(f"{base}/{seg}" if base else seg)
        inherited.append(base if el.tag in _CONTAINERS else own[-1])
    return own


class Template:
    """A parsed template: typed sections over the exact source."""

    def __init__(self, document: SourceDocument) -> None:
        self.document = document
        self.file = document.file
        self.issues: list[Finding] = []  # structural problems found while building the model
        self._paths = _field_paths(document)
        self._build()

    def __repr__(self) -> str:
        return f"Template({self.file or '<bytes>'!r}, name={self.general.name!r})"

    # -- construction -------------------------------------------------------------------------------
    def where(self, ref: int, attribute: str | None = None) -> Location:
        """Location of element *ref* (or of its *attribute* value) with its field path."""
        path = self._paths[ref]
        if attribute:
            path += f"@{attribute}"
        return self.document.location(ref, attribute, path)

    def _children(self, ref: int, tag: str) -> list[int]:
        return [c for c in self.document.elements[ref].children if self.document.elements[c].tag == tag]

    def _attr(self, ref: int, name: str, default: str = "") -> str:
        value = self.document.nodes[ref].get(name)
        return default if value is None else value

    def _parameter(self, ref: int) -> Parameter:
        a = self.document.nodes[ref].get
        return Parameter(ref, self.where(ref), a("Name") or "", a("Value"), a("Father") or "", a("Type") or "",
                         a("Editor") or "", a("Title") or "", a("Key") or "")

    def _parameters(self, owner: int) -> tuple[tuple[Parameter, ...], int | None]:
        blocks = self._children(owner, "Parameters")
        params = [self._parameter(p) for b in blocks for p in self._children(b, "Parameter")]
        return tuple(params), (blocks[0] if blocks else None)

    def _build(self) -> None:
        doc = self.document
        root = 0
        if doc.elements[root].tag != "Information":
            self.issues.append(error(f"the root element is <{doc.elements[root].tag}>; a template's root is "
                                     "<Information>", self.where(root), "root"))
        a = lambda name: self._attr(root, name)  # noqa: E731
        self.general = General(
            root, self.where(root), a("Provider"), a("Name"), a("Key"), a("Logo"), a("Remark"), a("Version"),
            a("AuthType").strip().lower(), a("MaxConcurrentRequest"),
            _truthy(a("UserAssociation")), _truthy(a("CreateNewContact")), _truthy(a("CallJournal")),
            _truthy(a("CreateNewTicket")),
        )
        self.root_parameters, _ = self._parameters(root)
        scenarios = []
        for block in self._children(root, "Scenarios"):
            for sref in self._children(block, "Scenario"):
                scenarios.append(self._scenario(sref))
        self.scenarios: tuple[Scenario, ...] = tuple(scenarios)
        self.auth = self._authentication()
        self._check_vocabulary()

    def _scenario(self, sref: int) -> Scenario:
        sid = self._attr(sref, "Id")
        params, pblock = self._parameters(sref)
        requests = []
        rblocks = self._children(sref, "Requests")
        for rb in rblocks:
            for rref in self._children(rb, "Request"):
                requests.append(self._request(rref, sid))
        return Scenario(sref, self.where(sref), sid, self._attr(sref, "Type"), params, tuple(requests), pblock,
                        rblocks[0] if rblocks else None)

    def _request(self, rref: int, scenario: str) -> Request:
        params, pblock = self._parameters(rref)
        outputs: list[Output] = []
        next_name = None
        oblocks = self._children(rref, "Outputs")
        for ob in oblocks:
            if next_name is None and self.document.nodes[ob].get("Next") is not None:
                next_name = self.document.nodes[ob].get("Next")
            for oref in self._children(ob, "Output"):
                outputs.append(Output(oref, self.where(oref), self._attr(oref, "Name"), self._attr(oref, "Path")))
        return Request(rref, self.where(rref), scenario, self._attr(rref, "Name"), self._attr(rref, "Method"),
                       self._attr(rref, "URLFormat"), self._attr(rref, "ResponseType"), params, tuple(outputs),
                       next_name or None, oblocks[0] if oblocks else None, pblock)

    def _authentication(self) -> Authentication:
        sc = self.scenario(AUTH)
        params = sc.parameters if sc else ()
        v = sc.value if sc else (lambda name, default="": default)
        fields = tuple(
            CustomField(p.ref, p.location, p.name, p.title, p.key, p.editor, p.value or "")
            for p in params if p.father == "CustomFieldList"
        )
        return Authentication(
            auth_type=self.general.auth_type,
            method=v("AuthMethod").strip().lower(),
            credential_type=v("CredentialType").strip(),
            base64_credential=v("Base64EncodedCredential"),
            auth_endpoint=v("AuthEndPoint"),
            token_endpoint=v("TokenEndPoint"),
            refresh_token_endpoint=v("RefreshTokenEndPoint"),
            scope=v("Scope"),
            additional_query_string=v("AdditionalQueryString"),
            token_type=v("TokenType").strip() or "Bearer",
            pkce=_truthy(v("Pkce")),
            no_need_refresh=any(p.father == "AuthOption" and p.name == "NoNeedRefreshAccessToken" and _truthy(p.value)
                                for p in params),
            token_invalid=tuple(p.value for p in params if p.father == "TokenErrorMap" and p.value),
            headers=tuple(p for p in params if p.father == "PopulateTemplateString" and p.type.lower() == "header"),
            custom_fields=fields,
        )

    def _check_vocabulary(self) -> None:
        """Unknown elements and attributes are kept and reported as warnings (spec A.6)."""
        doc = self.document
        for el in doc.elements:
            parent = doc.elements[el.parent].tag if el.parent >= 0 else None
            if parent is not None:
                allowed = KNOWN_CHILDREN.get(parent)
                if parent in ("Presets", "Responses"):
                    self.issues.append(warning(f"<{el.tag}> inside <{parent}> has no known meaning; it is kept "
                                               "and ignored", self.where(el.index), "unknown-element"))
                    continue
                if allowed is not None and el.tag not in allowed:
                    self.issues.append(warning(f"unknown element <{el.tag}> in <{parent}>; it is kept and ignored",
                                               self.where(el.index), "unknown-element"))
                    continue
            known = KNOWN_ATTRIBUTES.get(el.tag)
            if known is None:
                continue
            for span in el.attributes:
                if span.name not in known and not span.name.startswith("xmlns"):
                    self.issues.append(warning(f"unknown attribute {span.name!r} on <{el.tag}>; it is kept and ignored",
                                               self.where(el.index, span.name), "unknown-attribute"))

    # -- queries ------------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self.general.name

    @property
    def custom_fields(self) -> tuple[CustomField, ...]:
        return self.auth.custom_fields

    def scenario(self, scenario_id: str) -> Scenario | None:
        """The first scenario with this Id (None when absent)."""
        for s in self.scenarios:
            if s.id == scenario_id:
                return s
        return None

    def common_request(self, name: str) -> Request | None:
        """A request of the ``Common`` scenario by name (the target of ``Outputs Next``)."""
        for s in self.scenarios:
            if s.id == COMMON:
                r = s.request(name)
                if r is not None:
                    return r
        return None

    def feature_enabled(self, flag: str) -> bool:
        """A feature switch of <Information> that also has its scenario."""
        return self.general.feature(flag) and self.scenario(FEATURE_SCENARIOS[flag]) is not None

    # -- saving -------------------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        return self.document.to_bytes()

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the template atomically (temp file in the same folder, then rename)."""
        atomic_write(Path(path), self.to_bytes())

    # -- edits (each returns a new Template; this one is unchanged) ----------------------------------
    def _new(self, document: SourceDocument) -> Template:
        return self if document is self.document else Template(document)

    def with_attribute(self, ref: int, name: str, value: str) -> Template:
        """Set one attribute of one element (e.g. a request's URLFormat or a parameter's Value)."""
        return self._new(self.document.set_attribute(ref, name, value))

    def without_attribute(self, ref: int, name: str) -> Template:
        return self._new(self.document.remove_attribute(ref, name))

    def without_element(self, ref: int) -> Template:
        if ref == 0:
            raise ValueError("cannot remove the root element")
        return self._new(self.document.remove_element(ref))

    def with_request_url(self, request: Request, url: str) -> Template:
        return self.with_attribute(request.ref, "URLFormat", url)

    def with_parameter(self, scenario: Scenario, name: str, value: str, father: str = "") -> Template:
        """Set a scenario parameter's Value, adding the parameter when it does not exist yet."""
        existing = scenario.parameter(name, father)
        if existing is not None:
            return self.with_attribute(existing.ref, "Value", value)
        attrs = ([("Father", father)] if father else []) + [("Name", name), ("Value", value)]
        return self._insert_parameter(scenario, attrs)

    def with_custom_field(self, name: str, title: str, editor: str = "string", options: tuple[str, ...] = (),
                          value: str = "") -> Template:
        """Add a custom field to the AuthMethod scenario, after the last existing one."""
        sc = self.scenario(AUTH)
        if sc is None:
            raise TemplateError("the template has no AuthMethod scenario to hold custom fields",
                                Location(self.file, 0, 0, "Scenario[AuthMethod]"))
        if editor == "dropdown":
            value = ",".join(options)
        attrs = [("Father", "CustomFieldList"), ("Name", name), ("Editor", editor), ("Title", title), ("Key", name)]
        if value:
            attrs.append(("Value", value))
        after = self.custom_fields[-1].ref if self.custom_fields else None
        return self._insert_parameter(sc, attrs, after=after)

    def with_element(self, parent: int, tag: str, attributes: list[tuple[str, str]] | dict[str, str],
                     after: int | None = None) -> Template:
        """Add an empty element ``<tag .../>`` to element *parent* (last, or after child *after*)."""
        doc = self.document
        return self._new(doc.insert_element(parent, doc.element_text(tag, attributes), after=after))

    def with_output(self, request: Request, name: str, path: str) -> Template:
        """Map one more response field of *request* (``<Output Name Path>``), or change an existing one's Path."""
        for out in request.outputs:
            if out.name == name:
                return self.with_attribute(out.ref, "Path", path)
        doc = self.document
        fragment = doc.element_text("Output", [("Name", name), ("Path", path)])
        if request.outputs_ref is not None:
            return self._new(doc.insert_element(request.outputs_ref, fragment))
        block = f"<Outputs>{fragment}</Outputs>"
        return self._new(doc.insert_element(request.ref, block))

    def _insert_parameter(self, scenario: Scenario, attrs: list[tuple[str, str]], after: int | None = None) -> Template:
        doc = self.document
        fragment = doc.element_text("Parameter", attrs)
        if scenario.parameters_ref is not None:
            return self._new(doc.insert_element(scenario.parameters_ref, fragment, after=after))
        block = doc.element_text("Parameters", [])  # no <Parameters> yet: add one holding the parameter
        block = block.replace(" />", ">").replace("/>", ">") + fragment + "</Parameters>"
        children = doc.elements[scenario.ref].children
        presets = [c for c in children if doc.elements[c].tag == "Presets"]
        if presets:
            return self._new(doc.insert_element(scenario.ref, block, after=presets[0]))
        if children:
            return self._new(doc.insert_element(scenario.ref, block, before=children[0]))
        return self._new(doc.insert_element(scenario.ref, block))


def parse_template(data: bytes, file: str = "") -> Template:
    """Parse template bytes (raises :class:`TemplateError` for XML-level problems)."""
    return Template(parse_source(data, file))


def load_template(path: str | os.PathLike[str]) -> Template:
    """Read and parse a template file (refuses files over 1 MiB before reading them whole)."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_BYTES:
            raise template_error("xml-size", f"file is {size} bytes; templates are limited to {MAX_BYTES} bytes "
                                 "(1 MiB)", Location(str(path), 0, 0, ""))
        with p.open("rb") as fh:  # bounded: devices, pipes and /proc files report size 0
            data = fh.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise template_error("xml-size", f"file is more than {MAX_BYTES} bytes; templates are limited to "
                                 "1 MiB", Location(str(path), 0, 0, ""))
    except OSError as exc:
        raise template_error("file", f"cannot read the file: {exc.strerror or exc}",
                             Location(str(path), 0, 0, "")) from None
    return parse_template(data, str(path))
