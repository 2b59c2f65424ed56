<?php
// A front controller: .htaccess sends every path that is not a file here.
$path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
$https = $_SERVER['HTTPS'] ?? 'off';
header('Content-Type: text/plain; charset=utf-8');
echo "php-shop says hello\n";
echo "path: {$path}\n";
echo "https: {$https}\n";
echo "host: {$_SERVER['HTTP_HOST']}\n";
echo "client: {$_SERVER['REMOTE_ADDR']}\n";
