"""/v1/agents and /v1/numbers."""

from uuid import UUID

from litestar import Controller, get, post, put

from application.directory import AddNumber, CreateAgent, Directory, SetResponder
from application.errors import NotFound
from domain import ids
from interfaces.api.body import validate_body
from interfaces.api.responses import AUTHENTICATED, WITH_BODY, errors
from projections.queries import Queries
from projections.views import AgentView, NumberView


class AgentController(Controller):
    path = "/v1/agents"
    tags = ["agents"]

    @post(
        "/",
        operation_id="createAgent",
        responses=errors(*WITH_BODY),
        status_code=201,
        before_request=validate_body(CreateAgent),
        sync_to_thread=True,
    )
    def create(
        self, data: CreateAgent, account_id: UUID, directory: Directory, queries: Queries
    ) -> AgentView:
        agent_id = directory.create_agent(account_id, data)
        public = ids.public_id(ids.AGENT, agent_id)
        return next(a for a in queries.agents(account_id) if a.agent_id == public)

    @get("/", operation_id="listAgents", responses=errors(*AUTHENTICATED), sync_to_thread=True)
    def list(self, account_id: UUID, queries: Queries) -> list[AgentView]:
        return queries.agents(account_id)

    @put(
        "/{agent_id:str}/responder",
        operation_id="setAgentResponder",
        responses=errors(*WITH_BODY, 404),
        before_request=validate_body(SetResponder),
        sync_to_thread=True,
        description="Who answers replies to the agent's numbers: `none` (they are stored"
        " only; the default), `webhook` (the thread and the system prompt are POSTed to"
        ' `url`, which answers {"text": ...} or text/plain) or `openai` (the OpenAI-compatible'
        " endpoint in Herald's settings). Recorded as an event on the agent.",
    )
    def set_responder(
        self,
        agent_id: str,
        data: SetResponder,
        account_id: UUID,
        directory: Directory,
        queries: Queries,
    ) -> AgentView:
        directory.set_responder(account_id, agent_id, data)
        found = [a for a in queries.agents(account_id) if a.agent_id == agent_id]
        if not found:  # recorded, so shown unless the read models are being rebuilt
            raise NotFound("agent not found")
        return found[0]


class NumberController(Controller):
    path = "/v1/numbers"
    tags = ["numbers"]

    @post(
        "/",
        operation_id="addNumber",
        responses=errors(*WITH_BODY, 409),
        status_code=201,
        before_request=validate_body(AddNumber),
        sync_to_thread=True,
    )
    def add(
        self, data: AddNumber, account_id: UUID, directory: Directory, queries: Queries
    ) -> NumberView:
        directory.add_number(account_id, data)
        return next(n for n in queries.numbers(account_id) if n.phone_number == data.phone_number)

    @get("/", operation_id="listNumbers", responses=errors(*AUTHENTICATED), sync_to_thread=True)
    def list(self, account_id: UUID, queries: Queries) -> list[NumberView]:
        return queries.numbers(account_id)
