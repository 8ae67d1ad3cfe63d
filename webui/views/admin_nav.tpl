<nav class="subnav" id="admin-nav">
<a href="/admin">{{_('Overview')}}</a>
<a href="/admin/trunks" id="admin-trunks">{{_('Trunks')}}</a>
<a href="/admin/dids" id="admin-dids">{{_('DIDs')}}</a>
<a href="/admin/hardware" id="admin-hardware">{{_('E1 spans and FXO ports')}}</a>
<a href="/admin/queues" id="admin-queues">{{_('Queues')}}</a>
<a href="/admin/agents" id="admin-agents">{{_('Agents')}}</a>
<a href="/admin/acd" id="admin-acd">{{_('ACD settings')}}</a>
<a href="/admin/flows" id="admin-flows">{{_('IVR flows')}}</a>
<a href="/admin/schedules" id="admin-schedules">{{_('Time rules')}}</a>
<a href="/admin/calendars" id="admin-calendars">{{_('Holidays')}}</a>
<a href="/admin/caller_lists" id="admin-caller_lists">{{_('Caller lists')}}</a>
<a href="/admin/blacklist" id="admin-blacklist">{{_('Blacklist')}}</a>
<a href="/admin/autolock" id="admin-autolock">{{_('Auto-lock rules')}}</a>
<a href="/admin/prompts" id="admin-prompts">{{_('Prompts')}}</a>
<a href="/admin/moh" id="admin-moh">{{_('Music on hold')}}</a>
<a href="/admin/features" id="admin-features">{{_('Extension features')}}</a>
<a href="/admin/rooms" id="admin-rooms">{{_('Conference rooms')}}</a>
<a href="/admin/site" id="admin-site">{{_('Import / export')}}</a>
</nav>
