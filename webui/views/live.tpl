% rebase('base.tpl', title=_('Live view'), back_path='/live')
% import json
<h1>{{_('Live view')}}</h1>
<script type="application/json" id="i18n">{{!json.dumps({k: _(k) for k in ('logged-out', 'ready', 'not-ready', 'ringing', 'on-call', 'wrap-up', 'Listen', 'Whisper', 'Barge', 'Stop', 'Force release', 'Force transfer', 'Ready', 'Not ready', 'Log out', 'Transfer to', 'Connection to the box lost; retrying…', 'break', 'lunch', 'meeting', 'training', 'no answer', 'login', 'queued', 'ivr', 'up', 'setup', 'Done.')}, ensure_ascii=False).replace('</', '<\\/')}}</script>
<div id="live" data-extension="{{ctx.extension or ''}}" data-control="{{'1' if ctx.can('live.control') else ''}}">
% if ctx.can('live.control'):
<section class="panel">
<form method="post" action="/me/extension" class="inline">
<input type="hidden" name="csrf" value="{{ctx.csrf_token}}">
<input type="hidden" name="back" value="/live">
<label>{{_('My phone (rings to listen, whisper or barge)')}} <select name="extension" id="extension">
<option value="">—</option>
% for e in extensions:
<option value="{{e.number}}" {{'selected' if e.number == ctx.extension else ''}}>{{e.number}} {{e.name}}</option>
% end
</select></label>
<button type="submit" id="use-extension">{{_('Use this phone')}}</button>
</form>
<form method="post" action="/live/announcement" class="inline">
<input type="hidden" name="csrf" value="{{ctx.csrf_token}}">
<label>{{_('Wallboard announcement')}} <input name="text" value="{{announcement}}" maxlength="200" size="40" id="announcement"></label>
<button type="submit">{{_('Publish')}}</button>
</form>
</section>
% end
<section class="panel">
<h2>{{_('Queues')}}</h2>
<table id="queues">
<thead><tr><th>{{_('Queue')}}</th><th>{{_('Waiting')}}</th><th>{{_('Longest wait')}}</th><th>{{_('Offered today')}}</th><th>{{_('Answered calls')}}</th><th>{{_('Abandoned')}}</th><th>{{_('Service level')}}</th></tr></thead>
<tbody></tbody>
</table>
</section>
<section class="panel">
<h2>{{_('Agents')}}</h2>
% if ctx.can('live.control'):
<p><label>{{_('Transfer to')}} <input id="force-to" inputmode="tel" size="12"></label> <select id="reason"></select></p>
% end
<table id="agents">
<thead><tr><th>{{_('Agent')}}</th><th>{{_('Name')}}</th><th>{{_('Extension')}}</th><th>{{_('State')}}</th><th>{{_('Time in state')}}</th><th>{{_('Caller')}}</th><th>{{_('Queue')}}</th><th></th></tr></thead>
<tbody></tbody>
</table>
</section>
<section class="panel">
<h2>{{_('Calls')}} (<span id="call-count">0</span>)</h2>
<table id="calls">
<thead><tr><th>{{_('Caller')}}</th><th>{{_('Called')}}</th><th>{{_('State')}}</th><th>{{_('Queue')}}</th><th>{{_('Agent')}}</th><th>{{_('Duration')}}</th></tr></thead>
<tbody></tbody>
</table>
</section>
<p id="message" role="status" class="notice" hidden></p>
</div>
<script src="/static/live.js" defer></script>
<script src="/static/supervisor.js" defer></script>
