# pyramidviz: one replica of the app (CPU torch, no GPU needed). See deploy/ for a class.
FROM python:3.11-slim

ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONUNBUFFERED=1
# Korean needs the CJK fonts (the sidebar preview and the views use system fonts); curl for
# the health check.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-noto-cjk curl \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
# A CPU build of torch first, so the requirements' range installs nothing larger.
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu \
    && pip install -r requirements.txt
COPY app.py ui.py ./
COPY .streamlit .streamlit
COPY app_pages app_pages
COPY pyramidviz pyramidviz

RUN useradd --create-home --uid 10001 pyramidviz
USER pyramidviz
EXPOSE 8501
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s \
    CMD curl -fsS http://127.0.0.1:8501/_stcore/health || exit 1
CMD ["python", "-m", "streamlit", "run", "app.py", "--server.address=0.0.0.0", \
     "--server.port=8501", "--server.headless=true", "--server.fileWatcherType=none"]
