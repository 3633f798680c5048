# tipoff: one image for the coordinator (`tipoff serve`) and the worker (`tipoff worker --http`).
# Not built on the development machine (no Docker engine there); see docs/GCP.md.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PORT=8080
WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-cache-dir ".[postgres,gcp,oidc]" && useradd --create-home --uid 10001 tipoff
USER tipoff
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import os,urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/health', timeout=4)"
ENTRYPOINT ["sh", "-c", "exec tipoff \"$@\" --host 0.0.0.0 --port \"$PORT\"", "tipoff"]
CMD ["serve"]
