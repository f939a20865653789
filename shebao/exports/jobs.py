"""Entry points for the background worker. Thin: the logic is in services."""

from shebao.exports import services


def render_part_job(part_id: int) -> str:
    return services.render_part(part_id)
