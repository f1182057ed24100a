"""交办 in the staff API: a case's tasks and asking a unit; the tasks the user sees (the asked
unit's without the case) and answering one with records (multipart) or "none held"."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from requests_app import selectors
from requests_app.api.common import error_responses
from requests_app.api.staff import MAX_PK, StaffView, visible_case_get
from requests_app.models import RecordsTask, TaskAnswer
from requests_app.selectors import agency_by_code
from requests_app.services import records_tasks as services
from requests_app.services.errors import CaseNotFound, InvalidInput

TAGS = ["staff tasks"]


class TaskOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    tracking_number = serializers.CharField(source="case.tracking_number")
    asking_agency = serializers.CharField(source="case.agency.name")
    unit = serializers.CharField(source="unit.code")
    unit_name = serializers.CharField(source="unit.name")
    request = serializers.CharField()
    days = serializers.IntegerField()
    due_on = serializers.DateField()
    asked_by = serializers.SerializerMethodField()
    asked_at = serializers.DateTimeField()
    answer = serializers.ChoiceField(choices=TaskAnswer.choices, allow_blank=True)
    answer_note = serializers.CharField()
    answered_by = serializers.SerializerMethodField()
    answered_at = serializers.DateTimeField(allow_null=True)
    record_ids = serializers.SerializerMethodField()

    @staticmethod
    def _name(user) -> str:
        return (user.get_full_name() or user.get_username()) if user else ""

    def get_asked_by(self, task) -> str:
        return self._name(task.asked_by)

    def get_answered_by(self, task) -> str:
        return self._name(task.answered_by)

    def get_record_ids(self, task) -> list[int]:
        return [r.pk for r in task.records.all()]


class TaskAssignInputSerializer(serializers.Serializer):
    unit = serializers.CharField(max_length=64, help_text="被交办单位的机关代码 / the unit's code")
    request = serializers.CharField(max_length=2000, help_text="交办事项 / what records are asked")
    days = serializers.IntegerField(
        min_value=1,
        max_value=services.MAX_DAYS,
        help_text="答复期限（工作日，按本机关日历）/ working days on the case agency's calendar",
    )


class TaskAnswerInputSerializer(serializers.Serializer):
    answer = serializers.ChoiceField(choices=TaskAnswer.choices)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    files = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True, use_url=False),
        required=False,
        default=list,
        help_text="答复 records 时的文件（可多个），存入该申请的文件记录 / the records' files.",
    )


def _tasks(user):
    return selectors.tasks_visible(user).select_related(
        "case__agency", "unit", "asked_by", "answered_by"
    )


def _task(user, pk: int) -> RecordsTask:
    task = _tasks(user).filter(pk=pk).first() if pk <= MAX_PK else None
    if task is None:
        raise CaseNotFound("未找到该交办。", "No such task.")
    return task


class CaseTasksView(StaffView):
    @extend_schema(
        operation_id="staff_case_tasks_list",
        summary="申请的交办 / A case's tasks",
        tags=TAGS,
        responses={200: TaskOutputSerializer(many=True), **error_responses(401, 403, 404)},
    )
    def get(self, request, pk: int):
        case = visible_case_get(request, pk, with_history=False)
        tasks = _tasks(request.user).filter(case=case).prefetch_related("records").order_by("pk")
        return Response(TaskOutputSerializer(tasks, many=True).data)

    @extend_schema(
        operation_id="staff_case_tasks_assign",
        summary="交办 / Ask another unit for the records",
        description=(
            "向其他机关或本机关内设部门交办检索，答复期限按本机关工作日历计算；到期前提醒、逾期"
            "后向该单位负责人督办。/ Ask another agency or a department; the sweep reminds the "
            "unit before the due date and escalates to its head after it."
        ),
        tags=TAGS,
        request=TaskAssignInputSerializer,
        responses={201: TaskOutputSerializer, **error_responses(400, 401, 403, 404, 409, 415)},
    )
    def post(self, request, pk: int):
        serializer = TaskAssignInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        case = visible_case_get(request, pk, with_history=False)
        unit = agency_by_code(data["unit"])
        if unit is None:
            raise InvalidInput(
                "没有这个机关代码。", "No agency with this code.", fields={"unit": ["not_found"]}
            )
        task = services.task_assign(
            case=case, actor=request.user, unit=unit, request=data["request"], days=data["days"]
        )
        return Response(TaskOutputSerializer(_task(request.user, task.pk)).data, status=201)


class TaskListView(StaffView):
    @extend_schema(
        operation_id="staff_tasks_list",
        summary="我能看到的交办 / The tasks I see",
        description=(
            "todo=tasks_to_answer：待我答复的交办（与工作台计数相同）。被交办单位只看到交办事项，"
            "看不到申请的其他内容。/ The asked unit sees the task, not the case."
        ),
        tags=TAGS,
        parameters=[
            OpenApiParameter(
                "todo", str, enum=["tasks_to_answer"], required=False, description="待我答复"
            )
        ],
        responses={200: TaskOutputSerializer(many=True), **error_responses(400, 401, 403)},
    )
    def get(self, request):
        todo = request.query_params.get("todo", "")
        if todo not in ("", "tasks_to_answer"):
            raise InvalidInput(
                "todo 只能为 tasks_to_answer。",
                "todo must be tasks_to_answer.",
                fields={"todo": ["invalid_choice"]},
            )
        tasks = _tasks(request.user)
        if todo:
            tasks = tasks & selectors.tasks_to_answer(request.user)
        tasks = tasks.prefetch_related("records").order_by("due_on", "pk")[:500]
        return Response(TaskOutputSerializer(tasks, many=True).data)


class TaskDetailView(StaffView):
    @extend_schema(
        operation_id="staff_tasks_retrieve",
        summary="交办详情 / A task",
        tags=TAGS,
        responses={200: TaskOutputSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, pk: int):
        return Response(TaskOutputSerializer(_task(request.user, pk)).data)


class TaskAnswerView(StaffView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="staff_tasks_answer",
        summary="答复交办（multipart）/ Answer a task",
        description=(
            "被交办单位答复：records（上传文件，存入该申请的文件记录）或 none_held（本单位未掌握，"
            "须说明检索情况）。/ The asked unit answers with files (into the case's records) or "
            "'none held' with a note of what was searched."
        ),
        tags=TAGS,
        request={"multipart/form-data": TaskAnswerInputSerializer},
        responses={200: TaskOutputSerializer, **error_responses(400, 401, 403, 404, 409, 415)},
    )
    def post(self, request, pk: int):
        # The body is read before the task is looked up, as everywhere in the API.
        payload = {
            "answer": request.data.get("answer", ""),
            "note": request.data.get("note", ""),
            "files": request.FILES.getlist("files"),
        }
        serializer = TaskAnswerInputSerializer(data=payload)
        serializer.is_valid(raise_exception=True)
        valid = serializer.validated_data
        task = _task(request.user, pk)
        services.task_answer(
            task=task,
            actor=request.user,
            answer=valid["answer"],
            note=valid["note"],
            uploads=valid["files"],
        )
        return Response(TaskOutputSerializer(_task(request.user, task.pk)).data)


def urls() -> list:
    return [
        path("staff/cases/<int:pk>/tasks/", CaseTasksView.as_view(), name="staff-case-tasks"),
        path("staff/tasks/", TaskListView.as_view(), name="staff-tasks"),
        path("staff/tasks/<int:pk>/", TaskDetailView.as_view(), name="staff-task"),
        path("staff/tasks/<int:pk>/answer/", TaskAnswerView.as_view(), name="staff-task-answer"),
    ]
