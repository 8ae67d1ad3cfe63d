<!doctype html>
<html lang="{{'zh-CN' if ctx.lang == 'zh_CN' else 'en'}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="csrf-token" content="{{ctx.csrf_token if ctx.cur is not None else ''}}">
<title>{{_('Wallboard')}} · ccbox</title>
<link rel="stylesheet" href="/static/wallboard.css">
</head>
<body class="wallboard">
% import json
<script type="application/json" id="i18n">{{!json.dumps({k: _(k) for k in ('logged-out', 'ready', 'not-ready', 'ringing', 'on-call', 'wrap-up', 'Connection to the box lost; retrying…')}, ensure_ascii=False).replace('</', '<\\/')}}</script>
<header><h1>{{_('Call center')}}</h1><div id="clock"></div></header>
<main>
<div class="tiles">
<div class="tile"><div class="label">{{_('Calls waiting')}}</div><div class="value" id="wb-waiting">0</div></div>
<div class="tile"><div class="label">{{_('Longest wait')}}</div><div class="value" id="wb-longest">-</div></div>
<div class="tile"><div class="label">{{_('Service level today')}}</div><div class="value" id="wb-sl">-</div></div>
<div class="tile"><div class="label">{{_('Answered today')}}</div><div class="value" id="wb-answered">0</div></div>
<div class="tile"><div class="label">{{_('Abandoned today')}}</div><div class="value" id="wb-abandoned">0</div></div>
</div>
<div class="tiles agents">
<div class="tile ready"><div class="label">{{_('ready')}}</div><div class="value" id="wb-ready">0</div></div>
<div class="tile busy"><div class="label">{{_('on-call')}}</div><div class="value" id="wb-busy">0</div></div>
<div class="tile wrap"><div class="label">{{_('wrap-up')}}</div><div class="value" id="wb-wrap">0</div></div>
<div class="tile away"><div class="label">{{_('not-ready')}}</div><div class="value" id="wb-away">0</div></div>
</div>
<table id="wb-queues"><thead><tr><th>{{_('Queue')}}</th><th>{{_('Waiting')}}</th><th>{{_('Longest wait')}}</th><th>{{_('Service level')}}</th><th>{{_('Answered calls')}}</th><th>{{_('Abandoned')}}</th></tr></thead><tbody></tbody></table>
<div id="wb-agents"></div>
<div class="announcement" id="wb-announcement">{{announcement}}</div>
<p id="message" hidden></p>
</main>
<script src="/static/live.js" defer></script>
<script src="/static/wallboard.js" defer></script>
</body>
</html>
