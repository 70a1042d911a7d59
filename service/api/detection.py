from __future__ import annotations

from litestar import Controller, post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK

from service.api.auth import DETECT
from service.api.deps import Engine
from service.api.problems import problem_responses
from service.detection import InvalidTextError, TextTooLongError
from service.detection.schemas import DetectedEntity, DetectRequest, DetectResponse
from service.errors import PayloadTooLarge, ValidationFailed


class DetectController(Controller):
    path = "/v1/detect"
    tags = ["Detection"]

    @post(
        operation_id="detect",
        guards=[DETECT],
        status_code=HTTP_200_OK,
        summary="Find personal data in a text",
        description="Agencies also use this to check their own agents' replies before posting. "
        "Offsets are code points into `text`, end exclusive. Texts over 100,000 characters "
        "are refused with 413.",
        responses=problem_responses(400, 401, 403, 413, 415, 422),
    )
    async def detect(self, detector: Engine, data: JSONBody[DetectRequest]) -> DetectResponse:
        try:
            found = detector.detect(data.text, lang=data.lang, region=data.region)
        except TextTooLongError as exc:
            raise PayloadTooLarge(str(exc)) from None
        except InvalidTextError as exc:
            raise ValidationFailed(str(exc)) from None
        return DetectResponse(
            findings=[
                DetectedEntity(
                    type=f.type, start=f.start, end=f.end, score=f.score, masked=f.masked
                )
                for f in found
            ]
        )
