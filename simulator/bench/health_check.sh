#!/bin/bash
# health_check.sh - Complete Alice system health verification
# The guide's health check (docs: "System Health Check"), copied as written, for the check
# benchmark (simulator/bench/report.py). Adjusted ONLY in its URLs, which point at the stack
# under test through these variables instead of localhost and api.openai.com:
#   OPENAI_BASE_URL (with /v1)  OLLAMA_URL  GATEWAY_URL  BACKEND_URL  PROMETHEUS_URL
# Two lines of the original ran outside the curl quoting ('...' around URLs); they keep their
# curl and jq calls, with the URL in double quotes so the variable expands.

echo "🔍 Alice Hybrid System Health Check"
echo "=================================="

# Check OpenAI API connectivity
echo "☁️  Checking OpenAI Realtime API..."
if curl -s -H "Authorization: Bearer $OPENAI_API_KEY" \
   "${OPENAI_BASE_URL}/models" > /dev/null; then
    echo "✅ OpenAI API: Connected"
else
    echo "❌ OpenAI API: Connection failed"
fi

# Check local AI (Ollama)
echo "🏠 Checking local AI (gpt-oss:20B)..."
if curl -s "${OLLAMA_URL}/api/tags" | grep -q "gpt-oss:20b"; then
    echo "✅ Local AI: Model loaded and ready"
else
    echo "❌ Local AI: Model not available"
fi

# Check voice gateway
echo "🎤 Checking voice gateway..."
if curl -s "${GATEWAY_URL}/health" > /dev/null; then
    echo "✅ Voice Gateway: Running"
else
    echo "❌ Voice Gateway: Not responding"
fi

# Check backend health
echo "⚙️  Checking Alice backend..."
health_response=$(curl -s "${BACKEND_URL}/api/health")
if echo "$health_response" | grep -q '"status":"healthy"'; then
    echo "✅ Backend: Healthy"
else
    echo "❌ Backend: Issues detected"
fi

# Performance metrics
echo "📊 Current Performance Metrics:"
echo "$(curl -s "${PROMETHEUS_URL}/api/v1/query?query=intent_routing_latency_ms" | jq -r '.data.result[0].value[1]') ms - Intent routing latency"
echo "$(curl -s "${PROMETHEUS_URL}/api/v1/query?query=rate(fast_path_requests[5m])" | jq -r '.data.result[0].value[1]') req/min - Fast path usage"
