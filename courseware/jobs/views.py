from django.http import JsonResponse

from .services import owner_of, visible_job


def job_status(request, job_id):
    """``GET /jobs/<id>/``: the job's status, progress and result, for its owner only."""
    job = visible_job(job_id, owner_of(request))
    if job is None:
        return JsonResponse({"error": "No such job for this session."}, status=404)
    return JsonResponse(job.as_json())
