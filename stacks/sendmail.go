package stacks

import "encoding/base64"

// PHPSendmail is the sendmail_path that delivers PHP's mail() over SMTP to
// MAIL_HOST:MAIL_PORT from the environment (a project's Mailpit), in both
// runtimes: the script runs under the php command, so no sendmail binary
// is needed, in the host's packages or in an image. It travels base64 on
// the command line because Apache's config may carry no quote, backslash
// or "${" (confSafe), and a file in the run folder would not be readable
// by the workers' account.
var PHPSendmail = "php -r 'eval(base64_decode($argv[1]));' -- " + base64.StdEncoding.EncodeToString([]byte(sendmailPHP))

// sendmailPHP reads the message PHP's mail() writes (headers, a blank
// line, the body), sends it to each address of its To, Cc and Bcc headers
// (without the Bcc header), and exits 0 once the server accepted it, 1
// with the server's answer on stderr otherwise (mail() then returns
// false).
const sendmailPHP = `
$host = getenv("MAIL_HOST") ?: "127.0.0.1";
$port = (int)(getenv("MAIL_PORT") ?: "1025");
$msg = str_replace("\r\n", "\n", stream_get_contents(STDIN));
$parts = explode("\n\n", $msg, 2);
$head = preg_replace("/\n[ \t]+/", " ", $parts[0]);
$to = [];
$from = "devport@localhost";
$keep = [];
foreach (explode("\n", $head) as $line) {
    if (preg_match("/^(To|Cc|Bcc):(.*)$/i", $line, $m)) {
        preg_match_all("/[^\\s<>,\"]+@[^\\s<>,\"]+/", $m[2], $a);
        $to = array_merge($to, $a[0]);
        if (strtolower($m[1]) == "bcc") {
            continue;
        }
    }
    if (preg_match("/^From:(.*)$/i", $line, $m) && preg_match("/[^\\s<>,\"]+@[^\\s<>,\"]+/", $m[1], $a)) {
        $from = $a[0];
    }
    $keep[] = $line;
}
$msg = implode("\n", $keep) . "\n\n" . ($parts[1] ?? "");
$s = @fsockopen($host, $port, $errno, $errstr, 10);
if (!$s) {
    fwrite(STDERR, "sendmail: cannot reach $host:$port: $errstr\n");
    exit(1);
}
$read = function () use ($s) {
    $last = "";
    while (($l = fgets($s)) !== false) {
        $last = $l;
        if (strlen($l) < 4 || $l[3] != "-") {
            break;
        }
    }
    return $last;
};
$say = function ($cmd) use ($s, $read) {
    if ($cmd !== null) {
        fwrite($s, $cmd . "\r\n");
    }
    $l = $read();
    if ($l === "" || $l[0] > "3") {
        fwrite(STDERR, "sendmail: " . ($cmd ?? "greeting") . ": " . $l . "\n");
        exit(1);
    }
};
$say(null);
$say("HELO localhost");
$say("MAIL FROM:<$from>");
if (!$to) {
    fwrite(STDERR, "sendmail: the message has no To, Cc or Bcc address\n");
    exit(1);
}
foreach (array_unique($to) as $rcpt) {
    $say("RCPT TO:<$rcpt>");
}
$say("DATA");
fwrite($s, preg_replace("/^\./m", "..", str_replace("\n", "\r\n", rtrim($msg, "\n"))) . "\r\n.\r\n");
$say(null);
fwrite($s, "QUIT\r\n");
exit(0);
`
