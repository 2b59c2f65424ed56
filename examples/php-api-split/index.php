<?php
// The PHP half of the split: the proxy sends / here and /api to api/main.py.
header('Content-Type: text/plain; charset=utf-8');
echo "php-api-split php\n";
echo "path: ", parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH), "\n";
echo "https: ", $_SERVER['HTTPS'] ?? 'off', "\n";
