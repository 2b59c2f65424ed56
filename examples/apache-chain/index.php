<?php
// The PHP side of the chain: Apache serves this, and forwards /py/ to the
// FastAPI app in py/ (devport add examples/apache-chain --stack php --chain /py).
header('Content-Type: text/plain; charset=utf-8');
echo "apache-chain php\n";
echo "path: ", parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH), "\n";
echo "https: ", $_SERVER['HTTPS'] ?? 'off', "\n";
